import { Worker } from 'bullmq';
import {
  connectRedis,
  isRedisConnectionError,
  vantageQueueName,
  watchRedisConnections,
  type Config,
  type Logger,
  type RedisClient,
  type RedisWatch,
} from '@port-checker/shared';
import { createProbeProcessor, type ProbeHooks } from './probe.processor.js';
import { replying, type Publisher } from './reply.js';
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

/**
 * BullMQ Workers per worker process. A Worker takes jobs one round trip at a time (~0.4 ms each
 * here), so the 100 jobs of one request start over ~40 ms; several fetch in parallel. They share
 * one connection for commands; each has its own blocking connection, which BullMQ duplicates.
 */
export const WORKERS_PER_PROCESS = 4;

/**
 * Starts the process's BullMQ Workers on one shared connection; `close` closes them and it. The
 * watch logs that connection's outages, once each (see watchRedisConnections).
 */
export function startProbeWorkers(
  config: Config,
  logger: Logger,
  hooks: ProbeHooks = {},
  redisWatch: RedisWatch = watchRedisConnections(logger),
): { workers: Worker[]; connection: RedisClient; close(): Promise<void> } {
  const connection = connectRedis(config.redis, 'patient');
  redisWatch.watch(connection, 'commands');
  // Concurrency bounds the probes the process holds at once, so it is split between them.
  const concurrency = Math.ceil(config.workerConcurrency / WORKERS_PER_PROCESS);
  // A vantage's worker takes the jobs addressed to its vantage, and its share of the base queue's
  // (checks of one vantage, PORT_CHECK_VANTAGES=1, may go to any worker): half its Workers each.
  const queues = config.vantage ? [vantageQueueName(config.queueName, config.vantage.id), config.queueName] : [config.queueName];
  const workers = Array.from({ length: WORKERS_PER_PROCESS }, (_, index) =>
    startProbeWorker({ ...config, workerConcurrency: concurrency }, logger, hooks, connection, redisWatch, queues[index % queues.length]),
  );
  return {
    workers,
    connection,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/**
 * Starts one BullMQ worker that takes probe jobs from `queueName` (the configured queue, or a
 * vantage's queue beside it). Without a `connection` of the caller's (which the caller watches
 * and closes), it makes one of its own, watched, and closes it once the worker has closed.
 */
export function startProbeWorker(
  config: Config,
  logger: Logger,
  hooks: ProbeHooks = {},
  connection?: RedisClient,
  redisWatch: RedisWatch = watchRedisConnections(logger),
  queueName = config.queueName,
): Worker {
  const processor = createProbeProcessor({
    checkTarget: createTargetGuard(config),
    limits: { probe: config.probe, deadlineMs: config.deadlineMs },
    logger,
    sourceAddress: config.sourceAddress,
    ...hooks,
  });
  const own = connection ? undefined : connectRedis(config.redis, 'patient');
  if (own) redisWatch.watch(own, 'commands');
  // Replies go out on the worker's command connection, with BullMQ's own commands (reply.ts), on
  // the base queue's channels whichever queue the job came from (probe-reply.ts).
  const publisher = (connection ?? own!) as unknown as Publisher;
  const worker = new Worker(queueName, replying(config.queueName, publisher, processor), {
    connection: connection ?? own!,
    // Concurrency bounds the probes held at once, not the fetching: see WORKERS_PER_PROCESS.
    concurrency: config.workerConcurrency,
    ...STALLED_JOB_SETTINGS,
  });
  // BullMQ repeats here every error of its connections (the shared one once per Worker), at each
  // reconnect attempt: the watch logs an outage once; anything else is worth its stack.
  worker.on('error', (err) => {
    if (!isRedisConnectionError(err)) logger.error({ err }, 'worker error');
  });
  worker.once('closed', () => void own?.quit().catch(() => own.disconnect()));
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, reason: err.message }, 'probe job failed');
  });
  return worker;
}
