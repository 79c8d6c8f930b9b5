import type { Response } from 'express';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { AppError, describeRedisError, RETRY_AFTER_SECONDS, type Budgets as BudgetSettings } from '@port-checker/shared';

/** The limits a check can be refused by; named in 429 messages and in metrics. */
export const LIMITS = ['client', 'client_network', 'client_in_flight', 'target', 'target_network'] as const;
export type LimitName = (typeof LIMITS)[number];

export interface ChargedCheck {
  /** The caller's address (canonical). */
  client: string;
  /** The address checked; a check of the caller's own address is never charged to the target's budgets. */
  target: string;
  /** Ports the check costs (a TLS check costs one). */
  ports: number;
}

interface Charge {
  /** The check ended: its ports are no longer in flight. */
  release(): void;
  /** The check ended in a 503: its ports are given back to every budget, as if never charged. */
  refund(): void;
}

export interface Budgets {
  /**
   * Runs a check charged to every budget it counts against, all or none, in one atomic Redis call,
   * and sets the RateLimit-* headers of the caller's own budget. Throws RATE_LIMITED naming the
   * first limit without room (nothing charged), or SERVICE_UNAVAILABLE when Redis does not answer.
   * A check that ends in a 503 is given back what it was charged, as if never asked.
   */
  spend<T>(res: Response, check: ChargedCheck, run: () => Promise<T>): Promise<T>;
  /** Charges one port to the client's budgets for a request refused without a valid API token. */
  chargeUnauthorized(res: Response, client: string): Promise<void>;
}

/**
 * Fixed windows that start at a key's first use (so no replica can extend them), and a sorted set
 * of the checks in flight per client, each entry expiring at its check's deadline, so that an API
 * that dies holding ports cannot lock its clients out. Hand-written because none of the limiter
 * libraries charges several budgets all-or-nothing: rate-limiter-flexible's RateLimiterUnion
 * consumes from each even when another refuses, and a refused request must cost nothing.
 *
 * A check with room, the usual case, costs two commands per counter (INCRBY, PTTL for the
 * first, whose reset the headers give) and four for the ports in flight: counters are charged
 * first and taken back if one has no room, and expired entries of the set (checks of an API that
 * died) are removed only when there are some.
 *
 * KEYS: the window counters, then the in-flight set when ARGV[3] > 0.
 * ARGV: points, window (s), in-flight cap, the check's member id, hold (ms), then each counter's limit.
 * Returns {0, used, ttl ms} of the first counter, or {index of the refusing key, used, ms until it frees up}.
 */
const CHARGE = `
local points, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local counters = #KEYS
if cap > 0 then counters = counters - 1 end
local charged = {}
-- Takes back what this call charged to counters 1..n: a counter it created is deleted.
local function uncharge(n)
  for j = 1, n do
    if charged[j] == points then redis.call('del', KEYS[j]) else redis.call('decrby', KEYS[j], points) end
  end
end
for i = 1, counters do
  charged[i] = redis.call('incrby', KEYS[i], points)
  if charged[i] > tonumber(ARGV[5 + i]) then
    local ttl = redis.call('pttl', KEYS[i])
    uncharge(i)
    return {i, charged[i] - points, ttl}
  end
end
if cap > 0 then
  local set = KEYS[#KEYS]
  local time = redis.call('time')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local entries = redis.call('zrange', set, 0, -1, 'WITHSCORES')
  local held, expired, first = 0, false, nil
  for k = 1, #entries, 2 do
    local until_ms = tonumber(entries[k + 1])
    if until_ms <= now then
      expired = true
    else
      held = held + tonumber(string.match(entries[k], '^(%d+):'))
      first = first or until_ms
    end
  end
  if expired then redis.call('zremrangebyscore', set, '-inf', now) end
  if held + points > cap then
    uncharge(counters)
    return {#KEYS, held, (first or now) - now}
  end
  redis.call('zadd', set, now + tonumber(ARGV[5]), points .. ':' .. ARGV[4])
  redis.call('pexpire', set, ARGV[5])
end
local result = {0, 0, 0}
for i = 1, counters do
  -- Only a counter this call may have created can lack its expiry; the first's TTL goes in the headers.
  if i == 1 or charged[i] == points then
    local ttl = redis.call('pttl', KEYS[i])
    if ttl < 0 then
      redis.call('expire', KEYS[i], window)
      ttl = window * 1000
    end
    if i == 1 then result = {0, charged[i], ttl} end
  end
end
return result
`;

/** KEYS: the window counters, then the in-flight set. ARGV: points, member. */
const REFUND = `
for i = 1, #KEYS - 1 do
  -- A counter whose window has ended is not recreated (it would have no TTL).
  if redis.call('exists', KEYS[i]) == 1 and redis.call('decrby', KEYS[i], ARGV[1]) < 0 then
    redis.call('set', KEYS[i], 0, 'KEEPTTL')
  end
end
redis.call('zrem', KEYS[#KEYS], ARGV[2])
`;

interface Counter {
  limit: LimitName;
  /** Whose budget: an address or a network, e.g. 2001:db8::/48. */
  owner: string;
  points: number;
}

type ScriptRedis = Redis & {
  chargeBudgets(keyCount: number, ...args: (string | number)[]): Promise<[number, number, number]>;
  refundBudgets(keyCount: number, ...args: (string | number)[]): Promise<unknown>;
};

/**
 * Per-client and per-target budgets in ports, shared by every API replica through Redis. Keys
 * start with `keyPrefix` (the queue name), so deployments that share a Redis count apart. A
 * budget of 0 is off; with every one off a check costs no Redis call.
 */
export function createBudgets(redis: Redis, settings: BudgetSettings, keyPrefix: string, deadlineMs: number): Budgets {
  const scripts = redis as ScriptRedis;
  if (!('chargeBudgets' in redis)) {
    redis.defineCommand('chargeBudgets', { lua: CHARGE });
    redis.defineCommand('refundBudgets', { lua: REFUND });
  }
  const window = settings.windowSeconds;
  const cap = settings.clientPortsInFlight;
  const counterKey = ({ limit, owner }: Counter): string => `${keyPrefix}:budget:${limit}:${owner}`;
  const inFlightKey = (client: string): string => `${keyPrefix}:in-flight:${clientKey(client)}`;
  // A check's ports count as in flight until it ends, or at the latest a little after its deadline.
  const holdMs = deadlineMs + 1000;
  let sequence = 0;

  /** Charges `ports` to `counters` and, when `inFlightCap` > 0, to the client's ports in flight; throws RATE_LIMITED. */
  async function chargeCounters(res: Response, client: string, counters: Counter[], ports: number, inFlightCap: number, member: string): Promise<void> {
    const keys = counters.map(counterKey);
    if (inFlightCap > 0) keys.push(inFlightKey(client));
    let reply: [number, number, number];
    try {
      reply = await scripts.chargeBudgets(keys.length, ...keys, ports, window, inFlightCap, member, holdMs, ...counters.map((c) => c.points));
    } catch (cause) {
      // Neither a 500 nor an unlimited pass; and the real cause, a Redis out of memory, say.
      throw new AppError('SERVICE_UNAVAILABLE', describeRedisError(cause, 'the rate limiter (Redis) is not reachable; try again shortly'), {
        cause,
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
    const [refused, used, ms] = reply;
    const reset = Math.max(1, Math.ceil(ms / 1000));
    if (refused > 0) {
      const counter = counters[refused - 1] ?? { limit: 'client_in_flight', owner: clientKey(client), points: inFlightCap };
      res.locals.rateLimitedBy = counter.limit;
      throw new AppError('RATE_LIMITED', refusal(counter, used, ports, window, reset), {
        retryAfter: reset,
        headers: rateLimitHeaders(counter.points, counter.points - used, reset),
      });
    }
    if (counters[0]?.limit === 'client') res.set(rateLimitHeaders(counters[0].points, counters[0].points - used, reset));
  }

  async function charge(res: Response, { client, target, ports }: ChargedCheck): Promise<Charge> {
    const counters = countersFor(settings, client, client === target ? undefined : target);
    if (counters.length === 0 && cap === 0) return { release: () => {}, refund: () => {} };
    const member = `${process.pid}.${++sequence}.${Date.now()}`;
    await chargeCounters(res, client, counters, ports, cap, member);

    const inFlightMember = `${ports}:${member}`;
    return {
      release() {
        if (cap > 0) redis.zrem(inFlightKey(client), inFlightMember).catch(() => {}); // else it expires at the deadline
      },
      refund() {
        const refundKeys = [...counters.map(counterKey), inFlightKey(client)];
        scripts.refundBudgets(refundKeys.length, ...refundKeys, ports, inFlightMember).catch(() => {});
      },
    };
  }

  return {
    async chargeUnauthorized(res, client) {
      const counters = countersFor(settings, client, undefined);
      if (counters.length > 0) await chargeCounters(res, client, counters, 1, 0, '');
    },

    async spend(res, check, run) {
      const charged = await charge(res, check);
      let refunded = false;
      try {
        return await run();
      } catch (error) {
        refunded = error instanceof AppError && error.status === 503;
        if (refunded) charged.refund();
        throw error;
      } finally {
        if (!refunded) charged.release();
      }
    },
  };
}

/** The window counters a check is charged to, those configured off left out. */
function countersFor(settings: BudgetSettings, client: string, stranger: string | undefined): Counter[] {
  const counters: Counter[] = [{ limit: 'client', owner: clientKey(client), points: settings.clientPorts }];
  if (ipaddr.parse(client).kind() === 'ipv6') {
    counters.push({ limit: 'client_network', owner: network(client, 56), points: settings.clientPortsPer56 });
    counters.push({ limit: 'client_network', owner: network(client, 48), points: settings.clientPortsPer48 });
  }
  if (stranger !== undefined) {
    const v4 = ipaddr.parse(stranger).kind() === 'ipv4';
    counters.push({ limit: 'target', owner: clientKey(stranger), points: settings.targetPorts });
    counters.push({ limit: 'target_network', owner: network(stranger, v4 ? 24 : 48), points: settings.targetNetworkPorts });
  }
  return counters.filter((counter) => counter.points > 0);
}

/**
 * The budget key of one address. IPv6 addresses count per /64, the smallest block a subscriber
 * is given: counting single addresses would let one client rotate through 2^64 of them.
 */
export function clientKey(address: string): string {
  return ipaddr.parse(address).kind() === 'ipv4' ? address : network(address, 64);
}

function network(address: string, bits: number): string {
  const parsed = ipaddr.parse(address);
  const base = parsed.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return `${base.toString()}/${bits}`;
}

/** Each limit as its 429's message begins: the page at / tells them apart by these words. */
export const LIMIT_DESCRIPTIONS: Record<LimitName, (owner: string, limit: number, window: number) => string> = {
  client: (owner, limit, window) => `per-client limit: ${owner} may have ${limit} ports checked per ${window} s`,
  client_network: (owner, limit, window) => `per-network limit of clients: ${owner} may have ${limit} ports checked per ${window} s`,
  client_in_flight: (owner, limit) => `per-client limit on ports in flight: ${owner} may have ${limit} ports being checked at once`,
  target: (owner, limit, window) => `per-target limit: ${owner} may be probed on ${limit} ports per ${window} s`,
  target_network: (owner, limit, window) => `per-target-network limit: ${owner} may be probed on ${limit} ports per ${window} s`,
};

function refusal({ limit, owner, points }: Counter, used: number, asked: number, window: number, reset: number): string {
  const left = Math.max(points - used, 0);
  return `${LIMIT_DESCRIPTIONS[limit](owner, points, window)} and ${left} are left, fewer than the ${asked} asked for; retry in ${reset} s`;
}

/** The names of the IETF draft's earlier versions, which most clients read. */
function rateLimitHeaders(limit: number, remaining: number, reset: number): Record<string, string> {
  return { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': String(Math.max(remaining, 0)), 'RateLimit-Reset': String(reset) };
}
