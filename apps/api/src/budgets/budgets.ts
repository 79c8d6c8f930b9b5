import {
  AppError,
  describeRedisError,
  inFlightHoldMs,
  isRedisConnectionError,
  RETRY_AFTER_SECONDS,
  type Budgets as BudgetSettings,
  type Logger,
  type RedisClient,
} from '@port-checker/shared';
import { clientKey, countersFor, inFlightFor } from './counters.js';
import { rateLimitHeaders, refusal, type Counter } from './limits.js';
import { budgetScripts } from './scripts.js';

export interface ChargedCheck {
  /** The caller's address (canonical). */
  client: string;
  /** The address checked; a check of the caller's own address, or own IPv6 /64, is never charged to the target's budgets. */
  target: string;
  /** Ports the check costs (a TLS check costs one). */
  ports: number;
}

/** What a check's run gave, and the RateLimit-* headers of the caller's own budget to answer with. */
export interface Spent<T> {
  value: T;
  headers: Record<string, string>;
}

export interface Budgets {
  /**
   * Runs a check charged to every budget it counts against, all or none, in one atomic Redis call;
   * its value and the caller's RateLimit-* headers, which an AppError it throws carries as well.
   * Throws RATE_LIMITED naming the first limit without room (nothing charged; `limit` says which),
   * or SERVICE_UNAVAILABLE when Redis does not answer. A check turned away with SERVICE_UNAVAILABLE
   * (nothing of it was probed) is given back what it was charged, as if never asked; one that ended
   * in CHECK_FAILED is not: its probes may have run, and a refund would make them free.
   */
  spend<T>(check: ChargedCheck, run: () => Promise<T>): Promise<Spent<T>>;
  /** Charges one port to the client's budgets for a request refused without a valid API token; the headers to answer with. */
  chargeUnauthorized(client: string): Promise<Record<string, string>>;
  /** Refunds that could not be made: the client stays charged until the window ends (a metric counts them). */
  readonly refundsFailed: number;
}

interface Charge {
  headers: Record<string, string>;
  /** The check ended: its ports are no longer in flight. */
  release(): void;
  /** The service turned the check away: its ports are given back to every budget. */
  refund(): void;
}

/**
 * Errors for which the check's ports are given back: the service turned it away before any probe
 * ran (Redis did not take its jobs, overload, shutdown). CHECK_FAILED is charged: workers took
 * some of its probes, and refunding them let a client keep workers busy for free.
 */
const refundable = (error: unknown): boolean => error instanceof AppError && error.code === 'SERVICE_UNAVAILABLE';

/**
 * Per-client and per-target budgets in ports, shared by every API replica through Redis
 * (apps/api/lua/charge-budgets.lua has the layout). Hand-written because none of the limiter
 * libraries charges several budgets all-or-nothing: rate-limiter-flexible's RateLimiterUnion
 * consumes from each even when another refuses, and a refused request must cost nothing. Keys
 * start with `keyPrefix` (the queue name), so deployments that share a Redis count apart. A budget
 * of 0 is off; with every one off a check costs no Redis call.
 */
export function createBudgets(redis: RedisClient, settings: BudgetSettings, keyPrefix: string, deadlineMs: number, logger: Logger): Budgets {
  const scripts = budgetScripts(redis);
  const window = settings.windowSeconds;
  const counterKey = ({ limit, owner }: Counter): string => `${keyPrefix}:budget:${limit}:${owner}`;
  // One set of the checks in flight per client and per IPv6 network of clients, whatever the cap.
  const inFlightKey = ({ owner }: Counter): string => `${keyPrefix}:in-flight:${owner}`;
  const holdMs = inFlightHoldMs(deadlineMs);
  let sequence = 0;
  let refundsFailed = 0;

  /**
   * Gives a check's ports back. With in-flight sets the script gives back only a charge that ran
   * and was not given back yet, so it is tried again, a second apart, while Redis does not answer,
   * until the check's hold ends; without them (every cap off) once, as a second try could give back
   * twice. A refund of a charge that ran (`charged`) but was never made is logged and counted; one
   * of a charge whose reply never came is not: most likely Redis was away and it never ran.
   */
  function giveBack(counters: Counter[], inFlight: Counter[], ports: number, member: string, charged: boolean): void {
    const keys = [...counters.map(counterKey), ...inFlight.map(inFlightKey)];
    const until = Date.now() + holdMs;
    const attempt = (): void => {
      scripts.refundBudgets(keys.length, ...keys, ports, `${ports}:${member}`, counters.length).catch((err: unknown) => {
        if (inFlight.length > 0 && Date.now() + 1000 < until) return void setTimeout(attempt, 1000).unref();
        if (!charged) return;
        refundsFailed += 1;
        logger.error({ err, ports }, 'budget refund failed: the client stays charged until the window ends');
      });
    };
    attempt();
  }

  /**
   * Charges `ports` to the window `counters` and to the caps on ports in flight `inFlight` (the
   * check as `member`); returns the caller's RateLimit-* headers, or throws RATE_LIMITED.
   */
  async function chargeCounters(counters: Counter[], inFlight: Counter[], ports: number, member: string): Promise<Record<string, string>> {
    const keys = [...counters.map(counterKey), ...inFlight.map(inFlightKey)];
    const limits = [...counters, ...inFlight].map((c) => c.points);
    let reply: [number, number, number];
    try {
      reply = await scripts.chargeBudgets(keys.length, ...keys, ports, window, counters.length, member, holdMs, ...limits);
    } catch (cause) {
      // A call that timed out may still run once Redis answers (a paused or slow Redis): the charge
      // is then taken back, so that a client answered 503 is not left charged. One never sent (no
      // connection) cannot have run.
      if (inFlight.length > 0 && !isRedisConnectionError(cause)) giveBack(counters, inFlight, ports, member, false);
      // Neither a 500 nor an unlimited pass; and the real cause, a Redis out of memory, say.
      throw new AppError('SERVICE_UNAVAILABLE', describeRedisError(cause, 'the rate limiter (Redis) is not reachable; try again shortly'), {
        cause,
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
    const [refused, used, ms] = reply;
    const reset = Math.max(1, Math.ceil(ms / 1000));
    if (refused > 0) {
      const counter = [...counters, ...inFlight][refused - 1]!;
      throw new AppError('RATE_LIMITED', refusal(counter, used, ports, window, reset), {
        retryAfter: reset,
        limit: counter.limit,
        headers: rateLimitHeaders(counter.points, counter.points - used, reset),
      });
    }
    return counters[0]?.limit === 'client' ? rateLimitHeaders(counters[0].points, counters[0].points - used, reset) : {};
  }

  async function charge({ client, target, ports }: ChargedCheck): Promise<Charge> {
    // A /64 is one subscriber's (clientKey): its addresses are the provider's own, not a stranger's.
    const counters = countersFor(settings, client, clientKey(client) === clientKey(target) ? undefined : target);
    const inFlight = inFlightFor(settings, client);
    if (counters.length === 0 && inFlight.length === 0) return { headers: {}, release: () => {}, refund: () => {} };
    const member = `${process.pid}.${++sequence}.${Date.now()}`;
    const headers = await chargeCounters(counters, inFlight, ports, member);

    const inFlightMember = `${ports}:${member}`;
    return {
      headers,
      release() {
        for (const cap of inFlight) redis.zrem(inFlightKey(cap), inFlightMember).catch(() => {}); // else it expires at its hold
      },
      refund: () => giveBack(counters, inFlight, ports, member, true),
    };
  }

  return {
    get refundsFailed() {
      return refundsFailed;
    },

    async chargeUnauthorized(client) {
      const counters = countersFor(settings, client, undefined);
      return counters.length > 0 ? chargeCounters(counters, [], 1, '') : {};
    },

    async spend(check, run) {
      const charged = await charge(check);
      let refunded = false;
      try {
        return { value: await run(), headers: charged.headers };
      } catch (error) {
        refunded = refundable(error);
        if (refunded) charged.refund();
        // A failed check's answer carries the caller's RateLimit-* headers too.
        if (error instanceof AppError) Object.assign(error.headers, { ...charged.headers, ...error.headers });
        throw error;
      } finally {
        if (!refunded) charged.release();
      }
    },
  };
}
