import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  AppError,
  RETRY_AFTER_SECONDS,
  patientConnection,
  PROBE_JOB_NAME,
  probeJobOptions,
  type ProbeJob,
  type ProbeOutcome,
  type Logger,
  type ProbeSettings,
} from '@port-checker/shared';
import { JobResults } from './job-results.js';
import { OverloadGuard, type OverloadLimits } from './overload-guard.js';

export interface PortChecker {
  /** Probes `ports` of `host` through the workers; one outcome per port, or an AppError. */
  check(host: string, ports: readonly number[], options?: CheckOptions): Promise<Map<number, ProbeOutcome>>;
  /** Jobs this process waits on right now (shared probes count once). */
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

export interface CheckOptions {
  /** Token every open port must send back to count as verified. */
  challenge?: string | undefined;
}

export interface PortCheckerOptions {
  /** Fails fast (no offline queue): the API answers 503 at once when Redis is away. */
  redis: Redis;
  redisUrl: string;
  queueName: string;
  probe: ProbeSettings;
  deadlineMs: number;
  eventsMaxLen: number;
  overload: OverloadLimits;
  logger: Logger;
}

/** What a 503 asks the caller to wait when Redis does not answer. */

export async function createPortChecker(options: PortCheckerOptions): Promise<PortChecker> {
  const { redis, redisUrl, queueName, probe, deadlineMs, eventsMaxLen, overload, logger } = options;
  const queue = new Queue(queueName, {
    connection: redis,
    streams: { events: { maxLen: eventsMaxLen } },
    defaultJobOptions: probeJobOptions(deadlineMs),
  });
  await queue.waitUntilReady();
  // Read events from the stream's current end, named explicitly: with the default '$' a
  // QueueEvents misses whatever happens before its first XREAD is issued (bullmq #161).
  const [last] = await redis.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(queueName, {
    connection: patientConnection(redisUrl),
    lastEventId: last?.[0] ?? '0-0',
  });
  // Without listeners BullMQ prints these to stderr. The queue's client is `redis`, whose
  // errors its owner already logs; the events connection is this module's own.
  queue.on('error', () => {});
  events.on('error', (err) => logger.warn({ err: { message: err.message } }, 'queue events connection error'));
  await events.waitUntilReady();
  const results = new JobResults(queue, redis, events);
  const guard = new OverloadGuard(queue, overload);
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
      await guard.whenIdle();
    },

    async countWorkers() {
      return queue.getWorkersCount();
    },

    async countJobs() {
      return (await queue.getJobCounts(...JOB_STATES)) as JobCounts;
    },

    async check(host, ports, { challenge } = {}) {
      if (draining) {
        throw new AppError('SERVICE_UNAVAILABLE', 'this checker is shutting down; ask another or try again shortly', {
          retryAfter: RETRY_AFTER_SECONDS,
        });
      }
      const release = guard.admit(ports.length);
      try {
        return await checkAdmitted(host, ports, challenge);
      } finally {
        release();
      }
    },

    async close() {
      guard.close();
      await events.close();
      await queue.close();
    },
  };

  async function checkAdmitted(host: string, ports: readonly number[], challenge?: string): Promise<Map<number, ProbeOutcome>> {
    const requestId = randomUUID();
    const deadline = Date.now() + deadlineMs;
    const probes = ports.map((port) => {
      const data: ProbeJob = { host, port, deadline, ...probe, ...(challenge !== undefined && { challenge }) };
      // A challenged probe answers for its own token only: it is never shared with another request's.
      const key = challenge === undefined ? `${host} ${port}` : `${host} ${port} ${challenge}`;
      return { key, job: { name: PROBE_JOB_NAME, data, opts: { jobId: `${requestId}-${port}` } } };
    });
    const finished = await results.waitFor(probes, deadline, async (jobs) => {
      try {
        // One job (today's one-port checks) skips addBulk's pipeline: ioredis builds each
        // pipeline by copying every BullMQ script onto it, a visible cost per request.
        if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
        else await queue.addBulk(jobs);
      } catch (cause) {
        throw new AppError('SERVICE_UNAVAILABLE', 'the job queue (Redis) is not reachable; try again shortly', {
          cause,
          retryAfter: RETRY_AFTER_SECONDS,
        });
      }
    });

    const outcomes = new Map<number, ProbeOutcome>();
    for (const [index, result] of finished.entries()) {
      if (!result?.ok) {
        // The worker's reason goes to the log, not to the caller.
        const why = result ? 'a probe failed' : 'not every probe finished before the deadline';
        throw new AppError('CHECK_FAILED', `could not check every port: ${why}; try again or ask another checker`, {
          retryAfter: RETRY_AFTER_SECONDS,
          ...(result && { cause: new Error(result.reason) }),
        });
      }
      outcomes.set(ports[index]!, result.outcome);
    }
    return outcomes;
  }
}
