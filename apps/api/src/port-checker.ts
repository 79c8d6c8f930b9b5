import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  AppError,
  EVENT_STREAM_MAX_LEN,
  PROBE_JOB_NAME,
  probeJobOptions,
  type ProbeJob,
  type ProbeOutcome,
  type Logger,
  type ProbeSettings,
} from '@port-checker/shared';
import { JobResults } from './job-results.js';

export interface PortChecker {
  /** Probes `ports` of `host` through the workers; one outcome per port, or an AppError. */
  check(host: string, ports: readonly number[]): Promise<Map<number, ProbeOutcome>>;
  /** Requests waiting for their jobs right now. */
  readonly pending: number;
  /** True once `drain` has been called. */
  readonly draining: boolean;
  /** Refuses new checks (SERVICE_UNAVAILABLE) and resolves when those in flight have ended. */
  drain(): Promise<void>;
  /** Workers connected to the queue now, in any process (BullMQ names their Redis connections). */
  countWorkers(): Promise<number>;
  /** Jobs waiting, being probed and delayed now. */
  countJobs(): Promise<JobCounts>;
  close(): Promise<void>;
}

export const JOB_STATES = ['waiting', 'active', 'delayed'] as const;
export type JobCounts = Record<(typeof JOB_STATES)[number], number>;

export interface PortCheckerOptions {
  /** Fails fast (no offline queue): the API answers 503 at once when Redis is away. */
  redis: Redis;
  redisUrl: string;
  queueName: string;
  probe: ProbeSettings;
  deadlineMs: number;
  /** For connection errors, which BullMQ would otherwise print to stderr as they come. */
  logger: Logger;
}

const RETRY_AFTER_SECONDS = 5;

export async function createPortChecker(options: PortCheckerOptions): Promise<PortChecker> {
  const { redis, redisUrl, queueName, probe, deadlineMs, logger } = options;
  const queue = new Queue(queueName, {
    connection: redis,
    streams: { events: { maxLen: EVENT_STREAM_MAX_LEN } },
    defaultJobOptions: probeJobOptions,
  });
  await queue.waitUntilReady();
  // Read events from the stream's current end, named explicitly: with the default '$' a
  // QueueEvents misses whatever happens before its first XREAD is issued (bullmq #161).
  const [last] = await redis.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(queueName, {
    connection: { url: redisUrl, maxRetriesPerRequest: null },
    lastEventId: last?.[0] ?? '0-0',
  });
  await events.waitUntilReady();
  const onError = (err: Error): void => logger.warn({ err: { message: err.message } }, 'job queue connection error');
  queue.on('error', onError);
  events.on('error', onError);
  const results = new JobResults(queue, redis, events);
  let draining = false;

  return {
    get pending() {
      return results.pending;
    },

    get draining() {
      return draining;
    },

    async drain() {
      draining = true;
      await results.whenIdle();
    },

    async countWorkers() {
      return queue.getWorkersCount();
    },

    async countJobs() {
      return (await queue.getJobCounts(...JOB_STATES)) as JobCounts;
    },

    async check(host, ports) {
      if (draining) {
        throw new AppError('SERVICE_UNAVAILABLE', 'this checker is shutting down; ask another or try again shortly', {
          retryAfter: RETRY_AFTER_SECONDS,
        });
      }
      const requestId = randomUUID();
      const deadline = Date.now() + deadlineMs;
      const jobs = ports.map((port) => {
        const data: ProbeJob = { host, port, deadline, ...probe };
        return { name: PROBE_JOB_NAME, data, opts: { jobId: `${requestId}-${port}` } };
      });
      const ids = jobs.map((job) => job.opts.jobId);
      const finished = await results.waitFor(ids, deadline, async () => {
        try {
          await queue.addBulk(jobs);
        } catch (cause) {
          throw new AppError('SERVICE_UNAVAILABLE', 'the job queue (Redis) is not reachable; try again shortly', {
            cause,
            retryAfter: RETRY_AFTER_SECONDS,
          });
        }
      });

      const outcomes = new Map<number, ProbeOutcome>();
      for (const [index, id] of ids.entries()) {
        const result = finished.get(id);
        if (!result?.ok) {
          const why = result ? `a probe failed (${result.reason})` : 'not every probe finished before the deadline';
          throw new AppError('CHECK_FAILED', `could not check every port: ${why}; try again or ask another checker`, {
            retryAfter: RETRY_AFTER_SECONDS,
          });
        }
        outcomes.set(ports[index]!, result.outcome);
      }
      return outcomes;
    },

    async close() {
      await events.close();
      await queue.close();
    },
  };
}
