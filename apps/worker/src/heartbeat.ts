import { VANTAGE_HEARTBEAT_MS, VANTAGE_HEARTBEAT_TTL_MS, vantageKeys, type RedisClient, type VantageInfo } from '@port-checker/shared';

export interface Heartbeat {
  /** Resolves once the first beat is in Redis: the API may pick this vantage from then on. */
  readonly started: Promise<void>;
  /** Stops beating and takes the vantage off at once (another worker of it beats again within a second). */
  stop(): Promise<void>;
}

/**
 * Says, every second, that `vantage` is alive: its heartbeat key (its labels, as JSON) expires
 * three seconds after the last beat, so a worker killed or frozen stops being picked within that.
 * The expiry is Redis's, so the clocks of the API's and the worker's hosts need not agree. A beat
 * still on its way (Redis away) is not joined by another.
 */
export function startHeartbeat(redis: RedisClient, queueName: string, vantage: VantageInfo): Heartbeat {
  const keys = vantageKeys(queueName);
  const key = keys.heartbeat(vantage.id);
  const labels = JSON.stringify(vantage);
  let beating: Promise<void> | undefined;
  const beat = (): Promise<void> => {
    beating ??= Promise.all([redis.set(key, labels, 'PX', VANTAGE_HEARTBEAT_TTL_MS), redis.sadd(keys.ids, vantage.id)])
      .then(() => {}, () => {})
      .finally(() => (beating = undefined));
    return beating;
  };
  const timer = setInterval(() => void beat(), VANTAGE_HEARTBEAT_MS).unref();
  return {
    started: beat(),
    async stop() {
      clearInterval(timer);
      await beating;
      await redis.del(key).catch(() => {});
    },
  };
}
