import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

/**
 * What the watch needs of a Redis client: ioredis' `Redis`, or the wrapper BullMQ hands out for
 * its own connections (`getBackend().client`), which passes events through.
 */
export interface WatchableRedis {
  /** ioredis' status: 'connecting', 'connect', 'ready', 'close', 'reconnecting', 'end', … */
  readonly status: string;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface RedisWatch {
  /** Follows one more of the process's connections, named in the log line if it is the first to go. */
  watch(client: WatchableRedis, name: string): void;
  /** Connection errors so far (each failed connect, each connection dropped with an error): a metric counts them. */
  readonly errors: number;
}

/**
 * Logs a process's Redis outages once, not once per reconnect attempt: ioredis emits an `error`
 * for each failed try (every 0.1 to 2 s here, see reconnectQuickly) on each connection, and with
 * a stack each that is hundreds of lines a minute saying the same thing. One `warn`
 * ("redis connection lost", with the reason and no stack) when the first watched connection
 * goes, one `info` ("redis connection restored", with how long it was down) when all are back,
 * and `errors` counts each failure in between, for a metric. A process whose Redis is not there at
 * its start logs "redis not reachable" once instead, and "redis connected" when it is.
 *
 * The reason is that of the first failure: a connection Redis closed cleanly (it was stopped)
 * has none of its own, so the warning waits for the first reconnect attempt's error, which
 * comes at once (connection refused) or within the connect timeout (a host that is gone), unless
 * that attempt succeeds: then both lines are logged together.
 *
 * A connection closed on purpose (quit, disconnect: status `end`) is no outage.
 */
export function watchRedisConnections(logger: Logger): RedisWatch {
  const down = new Set<string>();
  let errors = 0;
  let outage: { since: number; lost: boolean; connection: string; logged: boolean } | undefined;

  function goDown(name: string, lost: boolean, reason: string | undefined): void {
    down.add(name);
    outage ??= { since: performance.now(), lost, connection: name, logged: false };
    if (reason !== undefined) announce(reason);
  }

  function announce(reason: string): void {
    if (!outage || outage.logged) return;
    outage.logged = true;
    const message = outage.lost ? 'redis connection lost' : 'redis not reachable';
    logger.warn({ connection: outage.connection, reason }, message);
  }

  function comeUp(name: string): void {
    down.delete(name);
    if (!outage || down.size > 0) return;
    announce('the connection was closed');
    const ms = Math.round(performance.now() - outage.since);
    if (outage.lost) logger.info({ downMs: ms }, 'redis connection restored');
    else logger.info({ waitedMs: ms }, 'redis connected');
    outage = undefined;
  }

  return {
    get errors() {
      return errors;
    },
    watch(client, name) {
      let everReady = client.status === 'ready';
      let lastError: string | undefined;
      client.on('error', (err: unknown) => {
        errors += 1;
        const reason = err instanceof Error ? err.message : String(err);
        if (!everReady) return goDown(name, false, reason);
        if (down.has(name)) return announce(reason);
        // A ready connection's error (ECONNRESET, say) comes just before its close: the reason.
        lastError = reason;
      });
      client.on('close', () => {
        // Status events come a tick late: by now ioredis has decided whether to reconnect.
        if (client.status === 'end' || !everReady || down.has(name)) return;
        goDown(name, true, lastError);
        lastError = undefined;
      });
      client.on('end', () => {
        // Closed for good, on purpose (the process is stopping): no outage to report the end of.
        down.delete(name);
        if (down.size === 0) outage = undefined;
      });
      client.on('ready', () => {
        everReady = true;
        comeUp(name);
      });
    },
  };
}

/**
 * `port_checker_redis_connection_errors_total` in `registry`, read from the watch when scraped:
 * what goes on between the two log lines of an outage.
 */
export function countRedisConnectionErrors(registry: Registry, redisWatch: RedisWatch): Counter {
  let counted = 0;
  return new Counter({
    name: 'port_checker_redis_connection_errors_total',
    help: 'Redis connection errors: failed connects and reconnect attempts, connections dropped with an error (the logs say only when an outage begins and ends)',
    registers: [registry],
    collect() {
      this.inc(redisWatch.errors - counted);
      counted = redisWatch.errors;
    },
  });
}

/** Errors that say only that Redis cannot be reached (a watched connection reports those), not what went wrong with a command. */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code } = err as NodeJS.ErrnoException;
  return (
    (code !== undefined && CONNECTION_ERROR_CODES.has(code)) ||
    err.name === 'MaxRetriesPerRequestError' ||
    /^Connection is closed|Stream isn't writeable|^connect E[A-Z]+ /.test(err.message)
  );
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

/** The Redis reply that says it refuses writes because it has reached `maxmemory` (with `noeviction`). */
export function isRedisOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('OOM ');
}

/**
 * Why Redis refused a command, in words, when it answered with a refusal of its own: out of
 * memory, a read-only replica, unable to persist. Undefined for any other error (not reachable,
 * timed out, a bug), which says nothing about Redis refusing writes.
 */
export function redisRefusal(err: unknown): string | undefined {
  if (isRedisOutOfMemory(err)) return 'Redis is out of memory (maxmemory) and refuses writes';
  const message = err instanceof Error ? err.message : '';
  if (message.startsWith('READONLY ')) return 'Redis is a read-only replica and refuses writes';
  if (message.startsWith('MISCONF ')) return 'Redis cannot save to disk and refuses writes';
  return undefined;
}

/**
 * What a failed Redis command means to a caller, for a 503's message: Redis' refusal with advice,
 * or else `unreachable`, e.g. "the rate limiter (Redis) is not reachable; try again shortly".
 */
export function describeRedisError(err: unknown, unreachable: string): string {
  const refusal = redisRefusal(err);
  return refusal ? `${refusal}; try again later or ask another checker` : unreachable;
}
