import type { AppError, PortState } from '@port-checker/shared';
import type { LimitName } from './budgets.js';

/** `ports`: POST /check-ports; `tls`: POST /check-tls. */
export const CHECK_KINDS = ['ports', 'tls'] as const;

/** What one check asked for and found: written by its route, read once by the request observer. */
export interface CheckRecord {
  kind: (typeof CHECK_KINDS)[number];
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
}

/**
 * How a request ended, in the one vocabulary of logs and metrics: `ok`, `aborted` (the client
 * left before the answer), or the error code in lower case (`check_failed`, `rate_limited`, …).
 */
export type Outcome = 'ok' | 'aborted' | Lowercase<AppError['code']>;

declare global {
  // Express's own extension point for what middleware and routes pass along a request.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** One id from the HTTP request through the probe jobs' ids to the workers' log lines. */
      requestId: string;
      check?: CheckRecord;
      /** Set by the error handler. */
      error?: AppError;
      /** Set by the budgets when they answer 429. */
      rateLimitedBy?: LimitName;
    }
  }
}
