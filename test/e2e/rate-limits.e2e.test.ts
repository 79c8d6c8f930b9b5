import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { monitorRedis, startRedisServer, type RedisServer } from '../support/redis.js';
import type { CheckAnswer, Service } from '../support/service.js';
import { servicePerTest } from '../support/service-per-test.js';

// Every check in this file probes 127.0.0.1 only. Each test starts its own service, so every
// limit starts from zero (the counters' keys carry the queue name, fresh per service).
const service = servicePerTest();
let open: Ports;
beforeAll(async () => {
  open = await openPorts(1);
});
afterAll(() => open?.close());

const limited = (env: Record<string, string>, workers = 1): Promise<Service> =>
  service.start({ env: { PORT_CHECKER_RATE_LIMIT_WINDOW: '60', ...env }, workers });

const rateLimitHeaders = ({ headers }: CheckAnswer) => ({
  limit: headers.get('ratelimit-limit'),
  remaining: headers.get('ratelimit-remaining'),
  reset: Number(headers.get('ratelimit-reset')),
});

describe('the per-client limit', () => {
  it('is shared by two API processes on one Redis: the 61st request overall is refused', async () => {
    const { check, startReplica } = await limited({ PORT_CHECKER_RATE_LIMIT_MAX: '60' });
    const replica = await startReplica();
    const [first, second] = [service.current.url, replica.url];

    const answers: CheckAnswer[] = [];
    for (let i = 0; i < 60; i += 1) answers.push(await check({ provider_ip: '127.0.0.1', ports: open.ports }, { url: i % 2 === 0 ? first : second }));
    const refused = await check({ provider_ip: '127.0.0.1', ports: open.ports }, { url: first });
    const refusedByReplica = await check({ provider_ip: '127.0.0.1', ports: open.ports }, { url: second });

    expect(answers.map((answer) => answer.status)).toEqual(Array(60).fill(200));
    expect(answers.map((answer) => rateLimitHeaders(answer).remaining)).toEqual(
      Array.from({ length: 60 }, (_, i) => String(59 - i)),
    );
    for (const answer of [refused, refusedByReplica]) {
      expect(answer.status).toBe(429);
      expect(answer.body.detail.code).toBe('RATE_LIMITED');
      expect(answer.body.detail.message).toMatch(/^per-client limit: 127\.0\.0\.1 has used its 60 requests per 60 s; retry in \d+ s$/);
    }
  });

  it('sends RateLimit-Limit, -Remaining and -Reset on answers, and Retry-After when it refuses', async () => {
    const { check } = await limited({ PORT_CHECKER_RATE_LIMIT_MAX: '2' });

    const first = await check({ provider_ip: '127.0.0.1', ports: open.ports });
    await check({ provider_ip: '127.0.0.1', ports: open.ports });
    const refused = await check({ provider_ip: '127.0.0.1', ports: open.ports });

    expect(first.status).toBe(200);
    expect(rateLimitHeaders(first)).toEqual({ limit: '2', remaining: '1', reset: expect.any(Number) });
    expect(rateLimitHeaders(first).reset).toBeGreaterThanOrEqual(59);
    expect(rateLimitHeaders(first).reset).toBeLessThanOrEqual(60);
    expect(refused.status).toBe(429);
    expect(rateLimitHeaders(refused)).toMatchObject({ limit: '2', remaining: '0' });
    expect(refused.headers.get('retry-after')).toBe(String(rateLimitHeaders(refused).reset));
    expect(refused.body.detail.message).toContain(`retry in ${rateLimitHeaders(refused).reset} s`);
  });

  it('lets the client in again when its window resets', async () => {
    const { check } = await limited({ PORT_CHECKER_RATE_LIMIT_MAX: '2', PORT_CHECKER_RATE_LIMIT_WINDOW: '1' });
    await check({ provider_ip: '127.0.0.1', ports: open.ports });
    await check({ provider_ip: '127.0.0.1', ports: open.ports });
    const refused = await check({ provider_ip: '127.0.0.1', ports: open.ports });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');

    await vi.waitFor(
      async () => expect((await check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200),
      { timeout: 5000, interval: 100 },
    );
  });

  it('counts malformed and refused requests too, but not those without the API token', async () => {
    const token = 'test-token-0123456789abcdef';
    const { check } = await limited({ PORT_CHECKER_RATE_LIMIT_MAX: '3', PORT_CHECKER_API_TOKEN: token }, 0);
    const authorized = { headers: { authorization: `Bearer ${token}` } };

    const statuses = [
      (await check({ provider_ip: '127.0.0.1', ports: open.ports })).status, // no token: not counted
      (await check('{"ports": [1', authorized)).status,
      (await check({ ports: [] }, authorized)).status,
      (await check({ provider_ip: '127.0.0.1', ports: Array.from({ length: 200 }, (_, i) => i + 1) }, authorized)).status,
      (await check({ provider_ip: '127.0.0.1', ports: open.ports }, authorized)).status,
    ];

    expect(statuses).toEqual([401, 400, 400, 400, 429]);
  });
});

describe('the per-target limit', () => {
  it('refuses whole, before enqueueing anything and without charging it, a request that would go over', async () => {
    const { check, jobCount } = await limited({ PORT_CHECKER_TARGET_RATE_LIMIT_MAX: '10' });
    const ports = await closedPorts(10);

    const first = await check({ provider_ip: '127.0.0.1', ports: ports.slice(0, 6) });
    const jobsAfterFirst = await jobCount();
    const tooMany = await check({ provider_ip: '127.0.0.1', ports: ports.slice(0, 5) });
    const jobsAfterRefusal = await jobCount();
    const fits = await check({ provider_ip: '127.0.0.1', ports: ports.slice(6, 10) });
    const overByOne = await check({ provider_ip: '127.0.0.1', ports: ports.slice(0, 1) });

    expect(first.status).toBe(200);
    expect(jobsAfterFirst).toBe(6);
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.detail).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(
        /^per-target limit: 127\.0\.0\.1 may be probed on 10 ports per 60 s and 4 are left, fewer than the 5 asked for; retry in \d+ s$/,
      ),
    });
    expect(Number(tooMany.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(jobsAfterRefusal).toBe(6);
    expect(fits.status).toBe(200);
    expect(overByOne.status).toBe(429);
  });

  it('is shared by every client, while each client keeps its own per-client limit', async () => {
    const { check } = await limited({
      PORT_CHECKER_TARGET_RATE_LIMIT_MAX: '3',
      PORT_CHECKER_RATE_LIMIT_MAX: '5',
      PORT_CHECKER_TRUST_PROXY: 'loopback',
    });
    const ports = await closedPorts(3);
    const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });

    const a = await check({ provider_ip: '127.0.0.1', ports: ports.slice(0, 2) }, from('198.51.100.1'));
    const b = await check({ provider_ip: '127.0.0.1', ports: ports.slice(0, 2) }, from('198.51.100.2'));
    const bFits = await check({ provider_ip: '127.0.0.1', ports: ports.slice(2) }, from('198.51.100.2'));

    expect([a.status, b.status, bFits.status]).toEqual([200, 429, 200]);
    expect(b.body.detail.message).toMatch(/^per-target limit/);
    expect(rateLimitHeaders(a).remaining).toBe('4');
    expect(rateLimitHeaders(bFits).remaining).toBe('3');
  });
});

describe('when Redis stops', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(() => redis.start()); // before the service stops, even if the test failed
  afterAll(() => redis?.stop());

  it('the limiter answers 503 SERVICE_UNAVAILABLE with Retry-After (neither a 500 nor an unlimited pass) until Redis is back', async () => {
    const { check } = await service.start({ redisUrl: redis.url, env: { PORT_CHECKER_RATE_LIMIT_MAX: '60', PORT_CHECKER_TARGET_RATE_LIMIT_MAX: '1000' } });
    expect((await check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);

    await redis.stop();
    const { status, body, headers } = await check({ provider_ip: '127.0.0.1', ports: open.ports });

    expect(status).toBe(503);
    expect(body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/rate limiter/) });
    expect(headers.get('retry-after')).toMatch(/^\d+$/);

    await redis.start();
    await vi.waitFor(
      async () => expect((await check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200),
      { timeout: 15_000, interval: 250 },
    );
  });
});

describe('the cost in Redis', () => {
  // A Redis of its own, so that only this service's commands are seen.
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  it('is one script call per limit: two for a request that passes the per-client limit and is refused by the per-target one', async () => {
    const { check, jobCount, config } = await service.start({
      redisUrl: redis.url,
      workers: 0,
      env: { PORT_CHECKER_RATE_LIMIT_MAX: '10', PORT_CHECKER_TARGET_RATE_LIMIT_MAX: '1' },
    });
    const overTarget = { provider_ip: '127.0.0.1', ports: [7466, 7467] };
    expect((await check(overTarget)).status).toBe(429); // loads the script into Redis
    // Only the limiters' scripts, by their keys: the overload guard runs BullMQ's own every 250 ms.
    const monitor = await monitorRedis(redis.url);
    const limiterKeys = `port-checker:${config.queueName}:`;

    const answer = await check(overTarget);
    await monitor.flush();
    monitor.stop();

    const scriptCalls = monitor.commands.filter(([name, , , key]) => /^eval(sha)?$/i.test(name!) && key?.startsWith(limiterKeys));
    expect(answer.status).toBe(429);
    expect(scriptCalls).toHaveLength(2);
    expect(await jobCount()).toBe(0);
  });
});
