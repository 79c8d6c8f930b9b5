import { Cluster, Redis, type ClusterOptions, type RedisOptions as IORedisOptions } from 'ioredis';
import type { HostPort } from './env.js';

/**
 * Where Redis is (config.ts reads it from REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES). This
 * module is the one place that knows how to reach each; callers ask for a connection by its manner.
 */
export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      /** The master name the sentinels monitor. */
      readonly name: string;
      readonly password?: string;
      readonly sentinelPassword?: string;
      readonly tls: boolean;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly password?: string; readonly tls: boolean };

/** A connection to the target: ioredis' Redis, or its Cluster, whose commands the service uses alike. */
export type RedisClient = Redis | Cluster;

/** 'patient' waits out an outage (workers, event readers); 'failFast' refuses at once (the API's commands). */
export type RedisManner = 'patient' | 'failFast';

/** Where a log line may say Redis is, without a password. */
export function describeRedisTarget(target: RedisTarget): string {
  const hosts = (list: readonly HostPort[]): string => list.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
  if (target.kind === 'url') {
    const url = new URL(target.url);
    url.password = url.password && '***';
    return url.href;
  }
  if (target.kind === 'sentinel') return `master "${target.name}" of the sentinels ${hosts(target.sentinels)}`;
  return `the cluster of ${hosts(target.nodes)}`;
}

/**
 * After a failover the old master, demoted to a replica, refuses writes (READONLY) and unblocks
 * blocked reads ("UNBLOCKED … master -> replica"); a connection still attached to it would write into
 * nothing or fail forever. Reconnecting asks the sentinels (or the URL's DNS name) for the master again.
 * A patient connection then sends the command again (2); the API's fails it (1), so the check gets its
 * 503 now rather than waiting for the reconnect.
 */
export function reconnectOnFailover(resend: boolean): (err: Error) => boolean | 1 | 2 {
  return (err) => (/^READONLY |^UNBLOCKED .*(master -> replica|instance state changed)/.test(err.message) ? (resend ? 2 : 1) : false);
}

/**
 * A connection to `target`, in the manner asked (see mannerOptions). Under
 * Sentinel it asks the sentinels for the master, and drops the connection as soon as any sentinel
 * announces a new one (+switch-master): a master frozen for a moment (paused, swapping, a network
 * partition) must not keep taking writes once it wakes, before Sentinel demotes it, since they are
 * lost when it resyncs as a replica.
 */
export function connectRedis(target: RedisTarget, manner: RedisManner, extra: IORedisOptions = {}): RedisClient {
  if (target.kind === 'url') return new Redis(target.url, { ...mannerOptions(manner), ...extra });
  if (target.kind === 'sentinel') return new Redis({ ...sentinelOptions(target, manner), ...extra });
  const { enableOfflineQueue, enableAutoPipelining, retryStrategy: _perNode, ...perNode } = { ...mannerOptions(manner), ...extra };
  const cluster: ClusterOptions = {
    // Per node; reconnecting is the cluster's own (clusterRetryStrategy).
    redisOptions: {
      ...perNode,
      ...(target.password !== undefined && { password: target.password }),
      ...(target.tls && { tls: {} }),
    },
    ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
    ...(enableAutoPipelining !== undefined && { enableAutoPipelining }),
    ...(extra.lazyConnect !== undefined && { lazyConnect: extra.lazyConnect }),
    clusterRetryStrategy: reconnectQuickly,
  };
  return new Cluster(target.nodes.map(({ host, port }) => ({ host, port })), cluster);
}

/**
 * 'patient', for connections that may wait (workers, the API's replies subscriber): no retry
 * limit, so a blocking read survives a Redis restart and resumes where it was. 'failFast': see
 * failFastOptions.
 */
function mannerOptions(manner: RedisManner): IORedisOptions {
  const base = manner === 'failFast' ? failFastOptions : { maxRetriesPerRequest: null, retryStrategy: reconnectQuickly };
  return { ...base, reconnectOnError: reconnectOnFailover(manner === 'patient') };
}

function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>, manner: RedisManner): IORedisOptions {
  const tls = target.tls ? {} : undefined;
  return {
    ...mannerOptions(manner),
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    role: 'master',
    failoverDetector: true,
    // The sentinels are asked again at each reconnect; one that is down is skipped at once.
    sentinelRetryStrategy: reconnectQuickly,
    ...(target.password !== undefined && { password: target.password }),
    ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
    ...(tls && { tls, sentinelTLS: tls, enableTLSForSentinelMode: true }),
  };
}

/**
 * Reconnect every 2 s at most. BullMQ's own backoff grows to 20 s after about ten failed
 * tries, so after an outage of more than a few seconds its clients would notice a Redis that
 * is back only up to 20 s later.
 */
export function reconnectQuickly(times: number): number {
  return Math.min(times * 100, 2000);
}

/**
 * For the API's commands: no offline queue, so a command while Redis is away rejects at once
 * and the request gets a 503 instead of waiting in memory for a reconnect; and a time limit, for
 * a Redis that is connected but does not answer (paused, swapping, a frozen network path).
 * The API's slowest command, adding a request's 128 jobs, takes milliseconds.
 * No auto-pipelining: ioredis builds a pipeline for every turn of the event loop that sends a
 * command, and copies each of BullMQ's ~50 scripts onto it; at 600 checks a second, one or two
 * commands a turn, that was 8 % of the API's CPU, and more in garbage. Measured on Node 24 without
 * it: a quarter less API CPU per check at 600 a second, and less flat out (docs/performance.md).
 */
export const failFastOptions = {
  enableOfflineQueue: false,
  enableAutoPipelining: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  retryStrategy: reconnectQuickly,
} as const;
