import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ProbeOutcome } from '@port-checker/shared';

/** How long before the deadline missing results are read from the jobs themselves. */
const LOOK_UP_MARGIN_MS = 1000;

export type Finished = { ok: true; outcome: ProbeOutcome } | { ok: false; reason: string };

/**
 * Routes job completions from the process's one shared QueueEvents to the requests waiting for
 * them, so waiting costs neither a listener nor a connection per job or per request
 * (BullMQ advises against `job.waitUntilFinished()` at volume).
 */
export class JobResults {
  private readonly waiting = new Map<string, (finished: Finished) => void>();

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

  /**
   * Waits until every job has finished, one has failed, or `deadline` (epoch ms) passes.
   * Waiters are registered before `enqueue` runs, so a completion that arrives before
   * `enqueue` returns is not missed. Shortly before the deadline, results still missing are
   * read from the jobs themselves, in case their completion events were lost. Returns what
   * finished; the caller decides what is missing.
   */
  async waitFor(jobIds: readonly string[], deadline: number, enqueue: () => Promise<unknown>): Promise<Map<string, Finished>> {
    const finished = new Map<string, Finished>();
    let failed = false;
    let resolve!: () => void;
    const settled = new Promise<void>((r) => (resolve = r));
    const waiting = (): boolean => !failed && finished.size < jobIds.length;
    for (const id of jobIds) {
      this.waiting.set(id, (result) => {
        finished.set(id, result);
        failed ||= !result.ok;
        if (!waiting()) resolve();
      });
    }
    const lookUpAt = deadline - Math.min(LOOK_UP_MARGIN_MS, (deadline - Date.now()) / 4);
    try {
      await enqueue();
      await settledOr(settled, lookUpAt);
      if (waiting()) {
        await this.lookUpMissing(jobIds, finished);
        failed ||= [...finished.values()].some((result) => !result.ok);
        if (waiting()) await settledOr(settled, deadline);
      }
      return finished;
    } finally {
      for (const id of jobIds) this.waiting.delete(id);
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

function safeJson(text: string | null | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
