import type { z } from 'zod';

/** A job's end: its outcome, parsed by the caller's schema, or why there is none. */
export type Finished<T> = { ok: true; outcome: T } | { ok: false; reason: string };
/** As the worker wrote it, before it is parsed. */
export type Returned = Finished<unknown>;
export type Waiter = (result: Returned) => void;

interface InFlightJob {
  key: string;
  /** The vantage whose queue holds it; undefined: the base queue. */
  vantage: string | undefined;
  waiters: Set<Waiter>;
  /** Redis has it: until then, not finding it in Redis means nothing. */
  added: boolean;
}

/**
 * The jobs this API process waits for, who waits for each, and which job probes what (`key`),
 * so that a check wanting a probe already in flight joins its job instead of adding one. A job is
 * forgotten once it has ended or nobody waits for it any more.
 */
export class InFlightJobs {
  private readonly jobs = new Map<string, InFlightJob>();
  private readonly jobIdByKey = new Map<string, string>();

  /** Jobs waited on right now (shared probes count once). */
  get size(): number {
    return this.jobs.size;
  }

  /** The jobs waited on that Redis has been seen to accept. */
  addedIds(): string[] {
    return [...this.jobs].filter(([, job]) => job.added).map(([id]) => id);
  }

  /** The job in flight that probes `key`, if any. */
  probing(key: string): string | undefined {
    return this.jobIdByKey.get(key);
  }

  /** The vantage whose queue holds the job; undefined for the base queue. */
  vantageOf(jobId: string): string | undefined {
    return this.jobs.get(jobId)?.vantage;
  }

  /** A job about to be added, probing `key`, in `vantage`'s queue or the base one. */
  start(jobId: string, key: string, vantage?: string): void {
    this.jobs.set(jobId, { key, vantage, waiters: new Set(), added: false });
    this.jobIdByKey.set(key, jobId);
  }

  /** Redis accepted the job. */
  added(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job) job.added = true;
  }

  /** `waiter` is called once, when the job ends. */
  wait(jobId: string, waiter: Waiter): void {
    this.jobs.get(jobId)?.waiters.add(waiter);
  }

  /** The job ended: every waiter hears of it. */
  settle(jobId: string, result: Returned): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.forget(jobId, job);
    for (const waiter of job.waiters) waiter(result);
  }

  /**
   * A check stops waiting; the job is forgotten once nobody waits for it any more. True when that
   * happened before the job ended: nobody will read its result.
   */
  leave(jobId: string, waiter: Waiter): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.waiters.delete(waiter);
    if (job.waiters.size > 0) return false;
    this.forget(jobId, job);
    return true;
  }

  private forget(jobId: string, job: InFlightJob): void {
    this.jobs.delete(jobId);
    if (this.jobIdByKey.get(job.key) === jobId) this.jobIdByKey.delete(job.key);
  }
}

/** A job's return value by the contract's schema: a worker of another version may write another shape. */
export function parsed<T>(result: Returned | undefined, schema: z.ZodType<T>): Finished<T> | undefined {
  if (!result?.ok) return result;
  const outcome = schema.safeParse(result.outcome);
  return outcome.success ? { ok: true, outcome: outcome.data } : { ok: false, reason: 'a probe gave a malformed result' };
}

/** A job's return value as its hash holds it (JSON text), read when its reply was missed. */
export function returned(text: string | null | undefined): Returned {
  try {
    return { ok: true, outcome: text ? JSON.parse(text) : undefined };
  } catch {
    return { ok: true, outcome: undefined };
  }
}
