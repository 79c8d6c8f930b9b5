import type { RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, RETRY_AFTER_SECONDS, type SecuritySettings } from '@port-checker/shared';
import { callerAddress } from './caller-address.js';

export interface RateLimits {
  /** Middleware: counts one request against the caller's address and sets the RateLimit-* headers. */
  limitClient: RequestHandler;
  /** Counts `ports` against the target, or throws RATE_LIMITED having counted nothing. */
  limitTarget(res: Response, host: string, ports: number): Promise<void>;
}

/**
 * rate-limiter-flexible's fixed window (SET NX with the window as TTL, so the window starts at
 * a key's first use and no replica can extend it), changed in one way: a consume that does not
 * fit is refused without being added. A request of 128 ports that is refused so leaves the
 * target's last few ports to a provider checking two, and the count stays what was really
 * accepted. It reports the count it would have reached, which is how the library knows to
 * reject. One EVALSHA, atomic, so replicas never race between reading and writing.
 *
 * Both limiters share one ioredis client, on which the library defines its command under one
 * name: they must therefore share this script too.
 */
const CONSUME_IF_ROOM = `
redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local wanted = tonumber(ARGV[1])
local reached = tonumber(redis.call('get', KEYS[1])) + wanted
if reached <= tonumber(ARGV[3]) then redis.call('incrby', KEYS[1], wanted) end
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {reached, ttl}
`;

interface Counted {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
}

/**
 * Per-client requests and per-target ports, counted in Redis so that every API replica shares
 * them. Keys start with `keyPrefix` (the queue name), so deployments that share a Redis keep
 * separate counts. A limit of 0 is off and costs nothing; each one on costs one round trip.
 */
export function createRateLimits(redis: Redis, settings: SecuritySettings, keyPrefix: string): RateLimits {
  const window = settings.rateLimitWindowSeconds;
  const limiter = (name: string, points: number): RateLimiterRedis | undefined =>
    points === 0
      ? undefined
      : new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${keyPrefix}:${name}`,
          points,
          duration: window,
          customIncrTtlLuaScript: CONSUME_IF_ROOM,
          rejectIfRedisNotReady: true,
        });
  const clients = limiter('client-limit', settings.clientRateLimit);
  const targets = limiter('target-limit', settings.targetRateLimit);

  return {
    async limitClient(req, res, next) {
      if (!clients) return next();
      const key = limitKey(callerAddress(req));
      const counted = await count(clients, key, 1);
      res.set({
        'RateLimit-Limit': String(clients.points),
        'RateLimit-Remaining': String(counted.remaining),
        'RateLimit-Reset': String(counted.reset),
      });
      if (!counted.allowed) {
        res.locals.rateLimitedBy = 'client';
        throw new AppError(
          'RATE_LIMITED',
          `per-client limit: ${key} has used its ${clients.points} requests per ${window} s; retry in ${counted.reset} s`,
          { retryAfter: counted.reset },
        );
      }
      next();
    },

    async limitTarget(res, host, ports) {
      if (!targets) return;
      const key = limitKey(host);
      const counted = await count(targets, key, ports);
      if (!counted.allowed) {
        res.locals.rateLimitedBy = 'target';
        throw new AppError(
          'RATE_LIMITED',
          `per-target limit: ${key} may be probed on ${targets.points} ports per ${window} s and ${counted.remaining} ` +
            `are left, fewer than the ${ports} asked for; retry in ${counted.reset} s`,
          { retryAfter: counted.reset },
        );
      }
    },
  };
}

/** Redis failing must neither let requests through unlimited nor become a 500: it is a 503. */
async function count(limiter: RateLimiterRedis, key: string, points: number): Promise<Counted> {
  let result: RateLimiterRes;
  let allowed = true;
  try {
    result = await limiter.consume(key, points);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) {
      throw new AppError('SERVICE_UNAVAILABLE', 'the rate limiter (Redis) is not reachable; try again shortly', {
        cause: rejection,
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
    result = rejection;
    allowed = false;
  }
  // A refused consume reports the count it would have reached; what is stored is `points` less.
  const used = allowed ? result.consumedPoints : result.consumedPoints - points;
  return {
    allowed,
    remaining: Math.max(limiter.points - used, 0),
    reset: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
  };
}

/**
 * IPv6 addresses are counted per /64, the smallest block a subscriber is given: counting single
 * addresses would let one client rotate through 2^64 of them, or aim at one network through as many.
 */
export function limitKey(address: string): string {
  if (ipaddr.parse(address).kind() === 'ipv4') return address;
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address}/64`).toString()}/64`;
}
