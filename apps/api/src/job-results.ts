import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { resultMarginMs, type ProbeJob, type TlsProbeJob } from '@port-checker/shared';

/** `outcome` is the job's return value, as the worker wrote it: the caller parses it. */
export type Finished = { ok: true; outcome: unknown } | { ok: false; reason: string };

export interface ProbeJobToAdd {
  name: string;
  data: ProbeJob | TlsProbeJob;
  opts: { jobId: string };
}

/** One probe a request needs; `key` names what is probed, so identical probes can be shared. */
export interface WantedProbe {
  key: string;
  job: ProbeJobToAdd;
}

interface InFlight {
  key: string;
  waiters: Set<(finished: Finished) => void>;
}

/**
 * Routes job completions from the process's one shared QueueEvents to the requests waiting for
 * them, so waiting costs neither a listener nor a connection per job or per request
 * (BullMQ advises against `job.waitUntilFinished()` at volume).
 *
 * A request that wants a probe identical to one already in flight from this process waits for
 * that job instead of adding its own: a burst of checks of one target costs one probe per port,
 * and no Redis command at all for the requests that join.
 */
export class JobResults {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly jobIdByKey = new Map<string, string>();

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    events: QueueEvents,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => {
      // Every API process reads every completion; only its own are worth parsing.
      if (!this.inFlight.has(jobId)) return;
      this.settle(jobId, { ok: true, outcome: returnvalue });
    });
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, reason: failedReason }));
  }

  /** Jobs waited on right now: for shutdown and metrics. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Waits until every probe has finished, one has failed, or `deadline` (epoch ms) passes, and
   * returns what finished, in the order asked (undefined where nothing did). Waiters are
   * registered before `add` runs, so a completion that arrives before `add` returns is not
   * missed. Shortly before the deadline, results still missing are read from the jobs
   * themselves, in case their completion events were lost.
   */
  async waitFor(
    probes: readonly WantedProbe[],
    deadline: number,
    add: (jobs: ProbeJobToAdd[]) => Promise<unknown>,
  ): Promise<Array<Finished | undefined>> {
    const finished = new Map<string, Finished>();
    let failed = false;
    let resolve!: () => void;
    const settled = new Promise<void>((r) => (resolve = r));
    const waiting = (): boolean => !failed && finished.size < ids.length;

    const toAdd: ProbeJobToAdd[] = [];
    const ids = probes.map(({ key, job }) => {
      const joined = this.jobIdByKey.get(key);
      if (joined) return joined;
      this.inFlight.set(job.opts.jobId, { key, waiters: new Set() });
      this.jobIdByKey.set(key, job.opts.jobId);
      toAdd.push(job);
      return job.opts.jobId;
    });
    const waiter = (id: string) => (result: Finished) => {
      finished.set(id, result);
      failed ||= !result.ok;
      if (!waiting()) resolve();
    };
    const waiters = ids.map((id) => {
      const callback = waiter(id);
      this.inFlight.get(id)!.waiters.add(callback);
      return callback;
    });

    try {
      if (toAdd.length > 0) {
        try {
          await add(toAdd);
        } catch (error) {
          // Requests that joined these jobs meanwhile learn at once that they will never run.
          for (const job of toAdd) this.settle(job.opts.jobId, { ok: false, reason: 'the job could not be enqueued' });
          throw error;
        }
      }
      // After the probes have ended (`resultMarginMs` before the deadline), with time left for one round trip.
      const lookUpAt = deadline - resultMarginMs(deadline - Date.now()) / 2;
      await settledOr(settled, lookUpAt);
      if (waiting()) {
        await this.lookUpMissing(ids.filter((id) => !finished.has(id)));
        if (waiting()) await settledOr(settled, deadline);
      }
      return ids.map((id) => finished.get(id));
    } finally {
      ids.forEach((id, index) => this.leave(id, waiters[index]!));
    }
  }

  private settle(jobId: string, result: Finished): void {
    const job = this.inFlight.get(jobId);
    if (!job) return;
    this.forget(jobId, job);
    for (const waiter of job.waiters) waiter(result);
  }

  /** A request stops waiting; the job is forgotten once nobody waits for it any more. */
  private leave(jobId: string, waiter: (finished: Finished) => void): void {
    const job = this.inFlight.get(jobId);
    if (!job) return;
    job.waiters.delete(waiter);
    if (job.waiters.size === 0) this.forget(jobId, job);
  }

  private forget(jobId: string, job: InFlight): void {
    this.inFlight.delete(jobId);
    if (this.jobIdByKey.get(job.key) === jobId) this.jobIdByKey.delete(job.key);
  }

  /**
   * Reads results straight from the job hashes: the event stream is trimmed and a reconnecting
   * QueueEvents can miss entries, but a finished job keeps its result for a while.
   */
  private async lookUpMissing(missing: readonly string[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const id of missing) pipeline.hmget(this.queue.toKey(id), 'finishedOn', 'returnvalue', 'failedReason');
    const replies = await pipeline.exec().catch(() => null);
    replies?.forEach(([err, fields], index) => {
      const [finishedOn, returnvalue, failedReason] = (fields ?? []) as (string | null)[];
      if (err || !finishedOn) return;
      const id = missing[index]!;
      if (failedReason) return this.settle(id, { ok: false, reason: failedReason });
      this.settle(id, { ok: true, outcome: safeJson(returnvalue) });
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
