import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ProbeOutcome } from '@port-checker/shared';

export type Finished = { ok: true; outcome: ProbeOutcome } | { ok: false; reason: string };

/**
 * Routes job completions from the process's one shared QueueEvents to the requests waiting for
 * them, so waiting costs neither a listener nor a connection per job or per request
 * (BullMQ advises against `job.waitUntilFinished()` at volume).
 */
export class JobResults {
  private readonly waiting = new Map<string, (finished: Finished) => void>();
  private readonly idleListeners: Array<() => void> = [];

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    events: QueueEvents,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => {
      const parsed = ProbeOutcome.safeParse(returnvalue);
      this.settle(jobId, parsed.success ? { ok: true, outcome: parsed.data } : { ok: false, reason: 'malformed result' });
    });
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, reason: failedReason }));
  }

  /** Requests waiting right now: for shutdown and metrics. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Resolves once no request waits for a job: at once if none does now. */
  whenIdle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  /**
   * Waits until every job has finished, one has failed, or `deadline` (epoch ms) passes.
   * Waiters are registered before `enqueue` runs, so a completion that arrives before
   * `enqueue` returns is not missed. Returns what finished; the caller decides what is missing.
   */
  async waitFor(jobIds: readonly string[], deadline: number, enqueue: () => Promise<unknown>): Promise<Map<string, Finished>> {
    const finished = new Map<string, Finished>();
    let resolve!: () => void;
    const settled = new Promise<void>((r) => (resolve = r));
    for (const id of jobIds) {
      this.waiting.set(id, (result) => {
        finished.set(id, result);
        if (!result.ok || finished.size === jobIds.length) resolve();
      });
    }
    const timer = setTimeout(resolve, deadline - Date.now());
    try {
      await enqueue();
      await settled;
      if (finished.size < jobIds.length) await this.lookUpMissing(jobIds, finished);
      return finished;
    } finally {
      clearTimeout(timer);
      for (const id of jobIds) this.waiting.delete(id);
      if (this.waiting.size === 0) for (const listener of this.idleListeners.splice(0)) listener();
    }
  }

  private settle(jobId: string, finished: Finished): void {
    this.waiting.get(jobId)?.(finished);
  }

  /**
   * Reads results straight from the job hashes: the event stream is trimmed and a reconnecting
   * QueueEvents can miss entries, but a finished job keeps its result for a while.
   */
  private async lookUpMissing(jobIds: readonly string[], finished: Map<string, Finished>): Promise<void> {
    const missing = jobIds.filter((id) => !finished.has(id));
    const pipeline = this.redis.pipeline();
    for (const id of missing) pipeline.hmget(this.queue.toKey(id), 'finishedOn', 'returnvalue', 'failedReason');
    const replies = await pipeline.exec().catch(() => null);
    replies?.forEach(([err, fields], index) => {
      const [finishedOn, returnvalue, failedReason] = (fields ?? []) as (string | null)[];
      if (err || !finishedOn) return;
      const id = missing[index]!;
      if (failedReason) return void finished.set(id, { ok: false, reason: failedReason });
      const parsed = ProbeOutcome.safeParse(safeJson(returnvalue));
      if (parsed.success) finished.set(id, { ok: true, outcome: parsed.data });
    });
  }
}

function safeJson(text: string | null | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
