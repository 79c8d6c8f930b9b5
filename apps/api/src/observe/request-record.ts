import type { AppError, CheckPortsResponse, CheckTlsResponse, Limit, PortState } from '@port-checker/shared';
import type { VantageStatus } from '../checks/vantages.js';

/** `ports`: POST /check-ports; `tls`: POST /check-tls. */
export const CHECK_KINDS = ['ports', 'tls'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * How a request ended, in the one vocabulary of logs and metrics: `ok`, `aborted` (the client
 * left before the answer), or the error code in lower case (`check_failed`, `rate_limited`, …).
 */
export type Outcome = 'ok' | 'aborted' | Lowercase<AppError['code']>;

/** What a check asked for and found, as its log line carries it. */
export interface CheckSummary {
  /** The address checked. */
  target: string;
  /** Ports the check costs: unique ports, or 1 for a TLS check. */
  ports: number;
  /** A ports check answered 200: its ports by state. */
  states?: Partial<Record<PortState, number>>;
  accessible?: number;
  /** Only with a challenge. */
  verified?: number;
  /** A TLS check answered 200. */
  valid?: boolean;
  /** From several vantages: each vantage's probes by status (finished, timed_out, offline). */
  vantages?: Record<string, Partial<Record<VantageStatus, number>>>;
  /** From several vantages: ports whose finished probes did not all agree. */
  split?: number;
  /** Jobs of other checks whose probes this one shared: their ids lead to the workers' lines about them. */
  joined?: string[];
}

/**
 * What one request asked and how it ended: created by the request observer, written through
 * these methods by where the route is mounted, the route and the error handler, and read once by
 * the observer when the answer has gone out. Nothing else is kept in `res.locals`.
 */
export class RequestRecord {
  /** Set where a check route is mounted, so that a check refused before its route (a body that is not JSON) counts as one. */
  kind: CheckKind | undefined;
  summary: CheckSummary | undefined;
  error: AppError | undefined;

  /** One id from the HTTP request through the probe jobs' ids to the workers' log lines. */
  constructor(readonly id: string) {}

  /** The request is a check of this kind. */
  checkOf(kind: CheckKind): void {
    this.kind = kind;
  }

  /** The check's target and cost, once its body has been read. */
  check(target: string, ports: number): void {
    this.summary = { target, ports };
  }

  /** The check waits for a job of another check, whose probe it shares. */
  joined(jobId: string): void {
    if (this.summary) (this.summary.joined ??= []).push(jobId);
  }

  /** The check was answered 200 with `body`. */
  answered(body: CheckPortsResponse | CheckTlsResponse): void {
    if (!this.summary) return;
    if ('valid' in body) {
      this.summary.valid = body.valid;
      return;
    }
    const results = Object.values(body.results);
    const states: Partial<Record<PortState, number>> = {};
    for (const { state } of results) states[state] = (states[state] ?? 0) + 1;
    this.summary.states = states;
    this.summary.accessible = results.filter((result) => result.accessible).length;
    if (results.some((result) => result.verified !== undefined)) this.summary.verified = results.filter((result) => result.verified).length;
    if (!results.some((result) => result.vantages)) return;
    const tally: NonNullable<CheckSummary['vantages']> = {};
    let split = 0;
    for (const { vantages = {}, agreement } of results) {
      for (const [vantage, { status }] of Object.entries(vantages)) (tally[vantage] ??= {})[status] = (tally[vantage]?.[status] ?? 0) + 1;
      if (agreement !== undefined && agreement.agree < agreement.answered) split += 1;
    }
    this.summary.vantages = tally;
    this.summary.split = split;
  }

  /** The request was answered with `error` (the error handler says so). */
  failed(error: AppError): void {
    this.error = error;
  }

  /** The budget that refused it, for a 429. */
  get limit(): Limit | undefined {
    return this.error?.limit;
  }
}

declare global {
  // Express's own extension point for what middleware and routes pass along a request.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      record: RequestRecord;
    }
  }
}
