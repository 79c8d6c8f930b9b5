import type { ProbeSettings } from '@port-checker/shared';

/** Settings of a job a worker may cut down to its own maxima. */
export const CLAMPED_SETTINGS = ['max_attempts', 'timeout', 'retry_delay', 'deadline'] as const;
export type ClampedSetting = (typeof CLAMPED_SETTINGS)[number];

export interface JobLimits {
  /** The worker's own PORT_CHECK_RETRIES, _TIMEOUT and _RETRY_DELAY: the most a job may ask for. */
  probe: ProbeSettings;
  /** The longest a check may last: no job's deadline lies further ahead. */
  deadlineMs: number;
}

/** What a port probe's and a TLS probe's jobs have in common (a TLS probe makes one attempt). */
interface ClampableJob {
  timeoutMs: number;
  deadline: number;
  maxAttempts?: number;
  retryDelayMs?: number;
}

/**
 * A job is data anyone with access to Redis can write: the worker trusts none of its numbers
 * beyond its own configuration, so a forged `maxAttempts: 1e6` cannot turn it into a flood.
 */
export function clampJob<T extends ClampableJob>(job: T, { probe, deadlineMs }: JobLimits, now = Date.now()): { job: T; clamped: ClampedSetting[] } {
  const clamped: ClampedSetting[] = [];
  const atMost = (setting: ClampedSetting, value: number, max: number): number => {
    if (value <= max) return value;
    clamped.push(setting);
    return max;
  };
  return {
    job: {
      ...job,
      ...(job.maxAttempts !== undefined && { maxAttempts: atMost('max_attempts', job.maxAttempts, probe.maxAttempts) }),
      timeoutMs: atMost('timeout', job.timeoutMs, probe.timeoutMs),
      ...(job.retryDelayMs !== undefined && { retryDelayMs: atMost('retry_delay', job.retryDelayMs, probe.retryDelayMs) }),
      deadline: atMost('deadline', job.deadline, now + deadlineMs),
    },
    clamped,
  };
}
