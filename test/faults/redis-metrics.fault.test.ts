import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, valueOf, type Sample } from '../support/metrics.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this file's own, so that stopping it disturbs no other test.
let redis: RedisServer;
let service: Service;
beforeAll(async () => {
  redis = await startRedisServer();
  service = await startService({ redisUrl: redis.url });
});
afterAll(async () => {
  await redis.start();
  await service?.stop();
  await redis?.stop();
});

describe('the API metrics while Redis is away', () => {
  it('say port_checker_redis_up 0 and keep the queue gauges at their last values', async () => {
    await expect.poll(async () => valueOf(await scrape(service.api.metricsUrl), 'port_checker_workers'), { timeout: 5000 }).toBe(1);
    expect(valueOf(await scrape(service.api.metricsUrl), 'port_checker_redis_up')).toBe(1);

    await redis.stop();
    // Redis is read at most once a second, so the first scrape after it stopped may still have the last reading.
    let during: Sample[] = [];
    await expect.poll(async () => valueOf((during = await scrape(service.api.metricsUrl)), 'port_checker_redis_up'), { timeout: 5000 }).toBe(0);

    expect(valueOf(during, 'port_checker_workers')).toBe(1);
    for (const state of ['waiting', 'active', 'delayed']) expect(valueOf(during, 'port_checker_queue_jobs', { state })).toBe(0);

    await redis.start();
    await expect.poll(async () => valueOf(await scrape(service.api.metricsUrl), 'port_checker_redis_up'), { timeout: 20_000 }).toBe(1);
  });
});
