import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import {
  AppError,
  RETRY_AFTER_SECONDS,
  patientConnection,
  PROBE_JOB_NAME,
  probeJobOptions,
  ProbeOutcome,
  resultMarginMs,
  TLS_PROBE_JOB_NAME,
  TlsProbeOutcome,
  type ProbeJob,
  type Logger,
  type ProbeSettings,
  type TlsProbeJob,
} from '@port-checker/shared';
import { JobResults, type Finished, type WantedProbe } from './job-results.js';
import { OverloadGuard, type OverloadLimits } from './overload-guard.js';

export interface PortChecker {
  /** Probes `ports` of `host` through the workers; one outcome per port, or an AppError. */
  check(host: string, ports: readonly number[], options?: CheckOptions): Promise<Map<number, ProbeOutcome>>;
  /** One TLS handshake with `host:port` through a worker; the outcome, or an AppError. */
  checkTls(host: string, port: number, options?: TlsCheckOptions): Promise<TlsProbeOutcome>;
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
  /** The HTTP request's id: its jobs' ids start with it, so one grep finds a check's whole story. */
  requestId?: string;
}

export interface TlsCheckOptions {
  /** Must be among the certificate's IP subject alternative names. */
  expectedIp?: string | undefined;
  requestId?: string;
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

    check(host, ports, { challenge, requestId = randomUUID() } = {}) {
      return admitted(ports.length, () => checkAdmitted(host, ports, requestId, challenge));
    },

    checkTls(host, port, { expectedIp, requestId = randomUUID() } = {}) {
      return admitted(1, async () => {
        const deadline = Date.now() + deadlineMs;
        const data: TlsProbeJob = {
          host,
          port,
          ...(expectedIp !== undefined && { expectedIp }),
          timeoutMs: probe.timeoutMs,
          deadline: deadline - resultMarginMs(deadlineMs),
        };
        const key = `tls ${host} ${port} ${expectedIp ?? ''}`;
        const [result] = await waitFor([{ key, job: { name: TLS_PROBE_JOB_NAME, data, opts: { jobId: `${requestId}-tls-${port}` } } }], deadline);
        return outcomeOf(result, TlsProbeOutcome);
      });
    },

    async close() {
      guard.close();
      await events.close();
      await queue.close();
    },
  };

  async function admitted<T>(jobs: number, run: () => Promise<T>): Promise<T> {
    if (draining) {
      throw new AppError('SERVICE_UNAVAILABLE', 'this checker is shutting down; ask another or try again shortly', {
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
    const release = guard.admit(jobs);
    try {
      return await run();
    } finally {
      release();
    }
  }

  async function checkAdmitted(host: string, ports: readonly number[], requestId: string, challenge?: string): Promise<Map<number, ProbeOutcome>> {
    const deadline = Date.now() + deadlineMs;
    const probes = ports.map((port) => {
      // The probe ends early enough for its result to be here by the deadline.
      const data: ProbeJob = { host, port, deadline: deadline - resultMarginMs(deadlineMs), ...probe, ...(challenge !== undefined && { challenge }) };
      // A challenged probe answers for its own token only: it is never shared with another request's.
      const key = challenge === undefined ? `${host} ${port}` : `${host} ${port} ${challenge}`;
      return { key, job: { name: PROBE_JOB_NAME, data, opts: { jobId: `${requestId}-${port}` } } };
    });
    const finished = await waitFor(probes, deadline);
    return new Map(finished.map((result, index) => [ports[index]!, outcomeOf(result, ProbeOutcome)]));
  }

  function waitFor(probes: readonly WantedProbe[], deadline: number): Promise<Array<Finished | undefined>> {
    return results.waitFor(probes, deadline, async (jobs) => {
      try {
        await queue.addBulk(jobs);
      } catch (cause) {
        throw new AppError('SERVICE_UNAVAILABLE', 'the job queue (Redis) is not reachable; try again shortly', {
          cause,
          retryAfter: RETRY_AFTER_SECONDS,
        });
      }
    });
  }
}

/**
 * A probe's outcome, or CHECK_FAILED: no worker took it up in time, it failed, or its result is
 * not what this version understands. The worker's reason goes to the log, not to the caller.
 */
function outcomeOf<T>(result: Finished | undefined, schema: z.ZodType<T>): T {
  const parsed = result?.ok ? schema.safeParse(result.outcome) : undefined;
  if (parsed?.success) return parsed.data;
  const why = !result ? 'not every probe finished before the deadline' : result.ok ? 'a probe gave a malformed result' : 'a probe failed';
  throw new AppError('CHECK_FAILED', `could not check every port: ${why}; try again or ask another checker`, {
    retryAfter: RETRY_AFTER_SECONDS,
    ...(result && !result.ok && { cause: new Error(result.reason) }),
  });
}
