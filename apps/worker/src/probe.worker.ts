import { Worker } from 'bullmq';
import { patientConnection, type Config, type Logger } from '@port-checker/shared';
import { createProbeProcessor, type ProbeHooks } from './probe.processor.js';
import { createTargetGuard } from './target-guard.js';

/**
 * A worker that dies mid-probe (killed, out of memory, its host lost) stops renewing the locks
 * of the jobs it holds. With BullMQ's defaults (30 s locks, a stalled-job check every 30 s)
 * another worker would take those jobs up only after 30 to 60 s, long after the request's
 * deadline (7 s by default) has made them useless. A 5 s lock, renewed every 2.5 s, and a
 * check every 2 s hand them to another worker within about 7 s. A probe is one TCP connect, so
 * the price of a short lock, a probe run twice when an event loop stalls past a renewal, is
 * harmless. A job that stalls a second time is failed rather than retried: it is likely what
 * kills workers. Whatever happens, a job still carries its deadline: a worker that takes it up
 * late drops it, and the API answers CHECK_FAILED at the deadline.
 */
export const STALLED_JOB_SETTINGS = { lockDuration: 5000, stalledInterval: 2000, maxStalledCount: 1 } as const;

/** Starts one BullMQ worker that takes probe jobs from the configured queue. */
export function startProbeWorker(config: Config, logger: Logger, hooks: ProbeHooks = {}): Worker {
  const processor = createProbeProcessor({
    checkTarget: createTargetGuard(config),
    limits: { probe: config.probe, deadlineMs: config.deadlineMs },
    logger,
    ...hooks,
  });
  const worker = new Worker(config.queueName, processor, {
    connection: patientConnection(config.redisUrl),
    // Concurrency bounds the probes held at once, not the fetching: a BullMQ worker takes jobs
    // one round trip at a time (~0.4 ms each here), so the 100 jobs of one request start over
    // ~40 ms. More worker processes fetch in parallel (`pnpm bench --workers 2`: 59 → 36 ms).
    concurrency: config.workerConcurrency,
    ...STALLED_JOB_SETTINGS,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, reason: err.message }, 'probe job failed');
  });
  return worker;
}
