import { ErrorStatus, type ErrorCode, type Limit } from '@port-checker/contract';

/** What a 503 tells the caller to wait before trying again: long enough for a Redis restart. */
export const RETRY_AFTER_SECONDS = 5;

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds; sent as `Retry-After`. */
  retryAfter?: number;
  /** Sent with the answer, e.g. the RateLimit-* headers of the limit that refused. */
  headers?: Record<string, string>;
  /** RATE_LIMITED only: the budget without room, answered as `detail.limit`. */
  limit?: Limit;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;
  readonly limit: Limit | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.status = ErrorStatus[code];
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
    this.limit = options.limit;
  }
}
