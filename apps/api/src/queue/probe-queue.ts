import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { z } from 'zod';
import {
  AppError,
  connectRedis,
  describeRedisError,
  ProbeReply,
  probeJobOptions,
  replyChannel,
  RETRY_AFTER_SECONDS,
  type Logger,
  type RedisClient,
  type RedisTarget,
  type RedisWatch,
  type Timeline,
  type VantageInfo,
} from '@port-checker/shared';
import { cached } from './cached.js';
import { ProbeQueues, type ProbeData, type ProbeResult } from './queues.js';
import { InFlightJobs, parsed, returned, type Finished, type Returned, type Waiter } from './in-flight-jobs.js';

export type { ProbeData, ProbeResult } from './queues.js';

/** One probe a check needs; `key` names what is probed, so identical probes can be shared. */
export interface WantedProbe {
  key: string;
  name: string;
  data: ProbeData;
  jobId: string;
  /** The vantage to probe from (its own queue); undefined: any worker, through the base queue. */
  vantage?: string;
}

export interface RunOptions {
  /** Hears of each job of another check that one of these probes shares, so that the log names it. */
  onJoin?: (jobId: string) => void;
  /**
   * Stop waiting at the first failed job (the check fails anyway): true unless each probe is one
   * of several voices (vantages), where the others are still worth hearing.
   */
  failFast?: boolean;
}

export type { Finished } from './in-flight-jobs.js';

export const JOB_STATES = ['waiting', 'active', 'delayed'] as const;
export type JobCounts = Record<(typeof JOB_STATES)[number], number>;

export interface ProbeQueueOptions {
  /** Fails fast (no offline queue): a check gets its 503 at once when Redis is away. */
  redis: RedisClient;
  redisTarget: RedisTarget;
  queueName: string;
  deadlineMs: number;
  eventsMaxLen: number;
  logger: Logger;
  /** Logs the replies connection's outages, with the other connections of the process. */
  redisWatch: RedisWatch;
}

/**
 * Everything BullMQ and Redis for probes: the queue, adding jobs, hearing their results, waiting
 * for them, sharing identical probes, reading results whose replies were lost, and the counts.
 * Nothing above it imports bullmq.
 *
 * Each job names this process (`replyTo`, drawn at start), and its worker publishes the job's end
 * on this process's own channel (probe-reply.ts): a result costs this process one message, its
 * own, however many API processes share the queue. (BullMQ's QueueEvents would have every
 * process read and parse every event of every job.) Replies are routed to the checks waiting for
 * them, so waiting costs neither a listener nor a connection per job or per check. A check that
 * wants a probe identical to one already in flight from this process waits for that job instead
 * of adding its own: a burst of checks of one target costs one probe per port, and no Redis
 * command at all for the checks that join. Checks in other processes add their own jobs: sharing
 * across processes would mean every process hearing every result again.
 */
export class ProbeQueue {
  private readonly inFlight = new InFlightJobs();

  /** Opens the queue and subscribes to this process's replies. */
  static async open({ redis, redisTarget, queueName, deadlineMs, eventsMaxLen, logger, redisWatch }: ProbeQueueOptions): Promise<ProbeQueue> {
    const queue = new Queue<ProbeData, ProbeResult>(queueName, {
      connection: redis,
      // Nothing here reads the event stream any more; BullMQ still writes it, kept short.
      streams: { events: { maxLen: eventsMaxLen } },
      defaultJobOptions: probeJobOptions(deadlineMs),
    });
    // Without a listener BullMQ prints these to stderr. The queue's client is `redis`, whose
    // outages its owner's watch logs.
    queue.on('error', () => {});
    await queue.waitUntilReady();
    const replyTo = randomUUID();
    // Patient: a subscriber waits out an outage and subscribes again by itself.
    const replies = connectRedis(redisTarget, 'patient');
    redisWatch.watch(replies, 'replies');
    await replies.subscribe(replyChannel(queueName, replyTo));
    return new ProbeQueue(new ProbeQueues(queue, redis, { deadlineMs, eventsMaxLen }), redis, replies, replyTo, logger);
  }

  constructor(
    private readonly queues: ProbeQueues,
    private readonly redis: RedisClient,
    private readonly replies: RedisClient,
    /** This process's name in the jobs it adds. */
    private readonly replyTo: string,
    private readonly logger: Logger,
  ) {
    replies.on('message', (_channel: string, message: string) => this.hear(message));
    // Back after an outage (ioredis subscribes again by itself): replies sent meanwhile reached
    // nobody, so the results of every job still waited for are read from the jobs at once.
    replies.on('ready', () => void this.lookUpMissing(this.inFlight.addedIds()));
  }

  /** Jobs waited on right now (shared probes count once): for shutdown and metrics. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Adds the probes' jobs (those not already in flight from this process) and waits until every
   * one has finished, one has failed, or the check's answer is due; returns what finished, parsed
   * by `outcome`, in the order asked (undefined where nothing did). `onJoin` hears of each job of
   * another check that one of these probes shares, so that the log names it. Waiters are
   * registered before the jobs are added, so a reply that arrives first is not missed. At the
   * timeline's `lookUpAt`, results still missing are read from the jobs themselves, in case their
   * replies were lost.
   * Throws SERVICE_UNAVAILABLE when the jobs cannot be added.
   */
  async run<T>(
    probes: readonly WantedProbe[],
    { lookUpAt, answerBy }: Timeline,
    outcome: z.ZodType<T>,
    { onJoin, failFast = true }: RunOptions = {},
  ): Promise<Array<Finished<T> | undefined>> {
    const finished = new Map<string, Returned>();
    let failed = false;
    let resolve!: () => void;
    const settled = new Promise<void>((r) => (resolve = r));
    const waiting = (): boolean => !(failFast && failed) && finished.size < ids.length;

    const toAdd: WantedProbe[] = [];
    const ids = probes.map((probe) => {
      const joined = this.inFlight.probing(probe.key);
      if (joined) {
        onJoin?.(joined);
        return joined;
      }
      this.inFlight.start(probe.jobId, probe.key, probe.vantage);
      toAdd.push(probe);
      return probe.jobId;
    });
    const waiter = (id: string): Waiter => (result) => {
      finished.set(id, result);
      failed ||= !result.ok;
      if (!waiting()) resolve();
    };
    const waiters = ids.map((id) => {
      const callback = waiter(id);
      this.inFlight.wait(id, callback);
      return callback;
    });

    try {
      if (toAdd.length > 0) await this.add(toAdd);
      await settledOr(settled, lookUpAt);
      if (waiting()) {
        await this.lookUpMissing(ids.filter((id) => !finished.has(id)));
        if (waiting()) await settledOr(settled, answerBy);
      }
      return ids.map((id) => parsed(finished.get(id), outcome));
    } finally {
      const jobs = ids.map((id) => ({ jobId: id, vantage: this.inFlight.vantageOf(id) }));
      const abandoned = jobs.filter(({ jobId }, index) => this.inFlight.leave(jobId, waiters[index]!));
      if (abandoned.length > 0) this.removeWaiting(abandoned);
    }
  }

  /**
   * Removes jobs nobody waits for any more (their check failed or timed out) that no worker has
   * taken yet, so that no worker's slot goes to a probe whose result nobody reads. BullMQ leaves a
   * job a worker holds (locked): that probe ends by its deadline.
   */
  private removeWaiting(jobs: ReadonlyArray<{ jobId: string; vantage?: string | undefined }>): void {
    for (const { jobId, vantage } of jobs) this.queues.of(vantage).remove(jobId).catch(() => {});
  }

  /** The vantages alive now (read at most once a second): see ProbeQueues. */
  get liveVantages(): () => Promise<VantageInfo[]> {
    return this.queues.liveVantages;
  }

  /**
   * Workers connected to the queue, in any process (BullMQ names their Redis connections). Read
   * at most once a second, however often /ready and scrapes ask: anyone may call /ready.
   */
  readonly countWorkers = cached(() => this.queues.base.getWorkersCount());

  /** Jobs waiting, being probed and delayed; read at most once a second. */
  readonly countJobs = cached(async () => (await this.queues.base.getJobCounts(...JOB_STATES)) as JobCounts);

  /**
   * Rejects when Redis refuses writes (maxmemory reached under `noeviction`: every job add and
   * rate-limit charge then fails with OOM, while reads, and so the counts above, still work). A
   * small key of the queue's, expiring at once, written at most once a second.
   */
  readonly checkWritable = cached(async () => {
    await this.redis.set(this.queues.base.toKey('write-check'), '1', 'PX', 1000);
  });

  /** Jobs no worker has taken yet: what the overload guard watches. */
  async countBacklog(): Promise<number> {
    const { wait = 0, prioritized = 0 } = await this.queues.base.getJobCounts('wait', 'prioritized');
    return wait + prioritized;
  }

  async close(): Promise<void> {
    // A subscriber has nothing to flush, and QUIT would wait for a Redis that may be away.
    this.replies.disconnect();
    await this.queues.close();
  }

  /** A worker's reply (probe-reply.ts): the job's end, for the checks waiting for it. */
  private hear(message: string): void {
    let reply: ProbeReply;
    try {
      reply = ProbeReply.parse(JSON.parse(message));
    } catch {
      this.logger.warn('a malformed probe reply was ignored');
      return;
    }
    const { jobId, ...result } = reply;
    this.inFlight.settle(jobId, result);
  }

  private async add(probes: WantedProbe[]): Promise<void> {
    try {
      // One `add` per job, not `addBulk`: addBulk builds a pipeline of its own for each check, and
      // ioredis builds each pipeline by copying every BullMQ script onto it (about twice the
      // client CPU for 3 jobs, measured).
      await Promise.all(
        probes.map(async ({ name, data, jobId, vantage }) => {
          await this.queues.of(vantage).add(name, { ...data, replyTo: this.replyTo }, { jobId });
          this.inFlight.added(jobId);
        }),
      );
    } catch (cause) {
      // All or nothing: the jobs that were added (Redis filling up refuses only the later ones) are
      // removed, so that no worker probes for a check answered 503. Checks that joined these jobs
      // meanwhile learn at once that they will never run.
      this.removeWaiting(probes);
      for (const { jobId } of probes) this.inFlight.settle(jobId, { ok: false, reason: 'the job could not be enqueued' });
      throw new AppError('SERVICE_UNAVAILABLE', describeRedisError(cause, 'the job queue (Redis) is not reachable; try again shortly'), {
        cause,
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
  }

  /**
   * Reads results straight from the job hashes: a reply reaches nobody while this process is
   * reconnecting, but a finished job keeps its result for a while.
   */
  private async lookUpMissing(missing: readonly string[]): Promise<void> {
    if (missing.length === 0) return;
    const pipeline = this.redis.pipeline();
    // `name` is set when a job is added: without it there is no job (Redis lost it, or someone removed it).
    for (const id of missing) {
      pipeline.hmget(this.queues.of(this.inFlight.vantageOf(id)).toKey(id), 'name', 'finishedOn', 'returnvalue', 'failedReason');
    }
    const replies = await pipeline.exec().catch(() => null);
    replies?.forEach(([err, fields], index) => {
      const [name, finishedOn, returnvalue, failedReason] = (fields ?? []) as (string | null)[];
      if (err) return;
      const id = missing[index]!;
      // Failed now, so that checks of its probe stop joining it and the next one adds a job afresh.
      if (!name) return this.inFlight.settle(id, { ok: false, reason: 'the job vanished from Redis before it finished' });
      if (!finishedOn) return;
      if (failedReason) return this.inFlight.settle(id, { ok: false, reason: failedReason });
      this.inFlight.settle(id, returned(returnvalue));
    });
  }
}

/** Resolves when `settled` does or at `at` (epoch ms), whichever comes first. */
function settledOr(settled: Promise<void>, at: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, at - Date.now());
    void settled.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
