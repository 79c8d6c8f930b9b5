import { Worker } from 'bullmq';
import { patientConnection, type Config, type Logger } from '@port-checker/shared';
import { createProbeProcessor, type ProbeHooks } from './probe.processor.js';

/** Starts one BullMQ worker that takes probe jobs from the configured queue. */
export function startProbeWorker(config: Config, logger: Logger, hooks: ProbeHooks = {}): Worker {
  const worker = new Worker(config.queueName, createProbeProcessor({ allowLocalIps: config.allowLocalIps, ...hooks }), {
    connection: patientConnection(config.redisUrl),
    concurrency: config.workerConcurrency,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, reason: err.message }, 'probe job failed');
  });
  return worker;
}
