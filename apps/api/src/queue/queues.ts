import { Queue } from 'bullmq';
import {
  probeJobOptions,
  vantageKeys,
  vantageQueueName,
  VantageInfo,
  type ProbeJob,
  type ProbeOutcome,
  type RedisClient,
  type TlsProbeJob,
  type TlsProbeOutcome,
} from '@port-checker/shared';
import { cached } from './cached.js';

/** What a job carries, and what its worker returns. */
export type ProbeData = ProbeJob | TlsProbeJob;
export type ProbeResult = ProbeOutcome | TlsProbeOutcome;
export type ProbeBullQueue = Queue<ProbeData, ProbeResult>;

/**
 * The queues probes go to: the base queue (PORT_CHECKER_QUEUE: any worker) and, beside it, one
 * per vantage (its own workers), all on one connection; and which vantages are alive.
 */
export class ProbeQueues {
  /** The queues of the vantages this process has sent probes to, by vantage id. */
  private readonly vantageQueues = new Map<string, ProbeBullQueue>();

  constructor(
    readonly base: ProbeBullQueue,
    private readonly redis: RedisClient,
    private readonly settings: { deadlineMs: number; eventsMaxLen: number },
  ) {}

  /** The base queue, or vantage `vantage`'s beside it (opened on first use, with the base queue's options). */
  of(vantage: string | undefined): ProbeBullQueue {
    if (vantage === undefined) return this.base;
    let queue = this.vantageQueues.get(vantage);
    if (!queue) {
      queue = new Queue<ProbeData, ProbeResult>(vantageQueueName(this.base.name, vantage), {
        connection: this.redis,
        streams: { events: { maxLen: this.settings.eventsMaxLen } },
        defaultJobOptions: probeJobOptions(this.settings.deadlineMs),
      });
      // Without a listener BullMQ prints these to stderr; the connection's owner logs its outages.
      queue.on('error', () => {});
      this.vantageQueues.set(vantage, queue);
    }
    return queue;
  }

  /**
   * The vantages alive now: those whose heartbeat key has not expired (its worker refreshed it in
   * the last few seconds). Read at most once a second, however many checks ask. Ids whose key has
   * expired are dropped from the set; a vantage that comes back adds itself again at its next beat.
   */
  readonly liveVantages = cached(async (): Promise<VantageInfo[]> => {
    const keys = vantageKeys(this.base.name);
    const ids = await this.redis.smembers(keys.ids);
    if (ids.length === 0) return [];
    const beats = await this.redis.mget(ids.map(keys.heartbeat));
    const gone = ids.filter((_, index) => beats[index] === null);
    if (gone.length > 0) this.redis.srem(keys.ids, ...gone).catch(() => {});
    return beats.flatMap((beat) => {
      const info = beat === null ? undefined : VantageInfo.safeParse(safeJson(beat));
      return info?.success ? [info.data] : [];
    });
  });

  async close(): Promise<void> {
    await Promise.all([this.base, ...this.vantageQueues.values()].map((queue) => queue.close()));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
