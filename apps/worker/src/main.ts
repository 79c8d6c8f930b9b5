import { createLogger, loadConfigOrExit } from '@port-checker/shared';
import { startProbeWorker } from './probe.worker.js';

const config = loadConfigOrExit();
const logger = createLogger({ name: 'port-checker-worker', debug: config.debug });
const worker = startProbeWorker(config, logger);
logger.info({ queue: config.queueName, concurrency: config.workerConcurrency }, 'worker started');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping: finishing the probes it holds');
  // A probe never outlives its job's deadline; this timer ends a close that would hang anyway.
  setTimeout(() => process.exit(1), 30_000).unref();
  try {
    await worker.close();
    logger.info('worker stopped');
  } catch (err) {
    logger.error({ err }, 'worker did not close cleanly');
    process.exitCode = 1;
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
