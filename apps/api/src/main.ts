import { createLogger, loadConfigOrExit } from '@port-checker/shared';
import { startApi } from './server.js';

const config = loadConfigOrExit();
const logger = createLogger({ name: 'port-checker-api', debug: config.debug });
const api = await startApi(config, logger);
logger.info({ url: api.url, queue: config.queueName }, 'api listening');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, pending: api.checker.pending }, 'api stopping');
  // In-flight checks end by their deadline; this timer ends a shutdown that would not.
  setTimeout(() => process.exit(1), config.deadlineMs + 5000).unref();
  try {
    await api.close();
    logger.info('api stopped');
  } catch (err) {
    logger.error({ err }, 'api did not stop cleanly');
    process.exitCode = 1;
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
