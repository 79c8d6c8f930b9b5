import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { scrape, valueOf } from '../support/metrics.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this file's own, which it fills up to its maxmemory (with noeviction, as the service
// wants it): Redis still answers reads, and refuses every write.
let redis: RedisServer;
let admin: Redis;
let service: Service;
let limited: Service;
let open: Ports;
beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
  service = await startService({ redisUrl: redis.url });
  // Another API on the same Redis with its rate limits on: a check's first write is then their charge.
  limited = await startService({ redisUrl: redis.url, workers: 0, env: { PORT_CHECKER_RATE_LIMIT_PORTS: '1000' } });
  open = await openPorts(1);
});
afterAll(async () => {
  await admin?.config('SET', 'maxmemory', '0').catch(() => {});
  admin?.disconnect();
  await limited?.stop();
  await service?.stop();
  await redis?.stop();
  await open?.close();
});

async function ready(): Promise<{ status: number; body: { detail?: { code: string; message: string } } }> {
  const response = await fetch(`${service.url}/ready`);
  return { status: response.status, body: (await response.json()) as { detail?: { code: string; message: string } } };
}

const gauge = async (name: string): Promise<number | undefined> => valueOf(await scrape(service.api.metricsUrl), name);

describe('a Redis out of memory (maxmemory reached, noeviction)', () => {
  it('makes /ready 503 and port_checker_redis_writable 0, naming the cause, as do the checks refused; all is well again once it has room', async () => {
    await expect.poll(async () => (await ready()).status, { timeout: 10_000 }).toBe(200);
    expect(await gauge('port_checker_redis_writable')).toBe(1);
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);

    // Data, then a maxmemory below what it takes: Redis is past its limit, as after filling up.
    const fillers = Array.from({ length: 16 }, (_, i) => `test:filler:${i}`);
    for (const key of fillers) await admin.set(key, 'x'.repeat(64 * 1024));
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(used - 512 * 1024));
    await expect(admin.set('test:one-more', '1')).rejects.toThrow(/^OOM /);

    // Read at most once a second: the first answers may still be those from before.
    await expect.poll(async () => (await ready()).status, { timeout: 5000 }).toBe(503);
    expect((await ready()).body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/out of memory \(maxmemory\)/) });
    await expect.poll(() => gauge('port_checker_redis_writable'), { timeout: 5000 }).toBe(0);
    // Redis answers, so the alert on port_checker_redis_up alone would stay quiet.
    expect(await gauge('port_checker_redis_up')).toBe(1);

    for (const [api, where] of [[service, 'adding the jobs'], [limited, 'charging the rate limits']] as const) {
      const { status, body, headers } = await api.check({ provider_ip: '127.0.0.1', ports: open.ports });
      expect(status, where).toBe(503);
      expect(headers.get('retry-after'), where).toMatch(/^\d+$/);
      expect(body.detail, where).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Redis is out of memory (maxmemory) and refuses writes; try again later or ask another checker',
      });
    }

    await admin.del(...fillers);
    await admin.config('SET', 'maxmemory', '0');
    await expect.poll(async () => (await ready()).status, { timeout: 5000 }).toBe(200);
    await expect.poll(() => gauge('port_checker_redis_writable'), { timeout: 5000 }).toBe(1);
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);
  });
});
