import type { RedisOptions } from 'bullmq';

/**
 * Reconnect every 2 s at most. BullMQ's own backoff grows to 20 s after about ten failed
 * tries, so after an outage of more than a few seconds its clients would notice a Redis that
 * is back only up to 20 s later.
 */
export function reconnectQuickly(times: number): number {
  return Math.min(times * 100, 2000);
}

/**
 * For connections that may wait: workers and the API's replies subscriber. No retry limit, so a
 * blocking read survives a Redis restart and resumes where it was.
 */
export function patientConnection(url: string): RedisOptions {
  return { url, maxRetriesPerRequest: null, retryStrategy: reconnectQuickly };
}

/**
 * For the API's commands: no offline queue, so a command while Redis is away rejects at once
 * and the request gets a 503 instead of waiting in memory for a reconnect; and a time limit, for
 * a Redis that is connected but does not answer (paused, swapping, a frozen network path).
 * The API's slowest command, adding a request's 128 jobs, takes milliseconds.
 * Auto-pipelining sends the commands of all requests issued in one tick (rate limits, job adds)
 * in one write: under many concurrent checks, socket writes were the API's largest CPU cost. It
 * builds a pipeline per tick (ioredis copies every BullMQ script onto each, ~3 % of the API's
 * CPU), yet measured without it the API spent no less per one-port check, and more per multi-port one.
 */
export const failFastOptions = {
  enableOfflineQueue: false,
  enableAutoPipelining: true,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  retryStrategy: reconnectQuickly,
} as const;
