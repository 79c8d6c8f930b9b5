import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this test's own, about to reach its maxmemory (noeviction): it takes some of a check's jobs, then refuses.
let redis: RedisServer | undefined;
let service: Service | undefined;
afterEach(async () => {
  await service?.stop();
  await redis?.stop();
  service = redis = undefined;
});

describe('a check whose jobs Redis takes only in part', () => {
  it('answers 503 and leaves none of its jobs behind for a worker to probe', async () => {
    redis = await startRedisServer();
    service = await startService({ redisUrl: redis.url, workers: 0 });
    const admin = new Redis(redis.url);
    try {
      // Room for some of the 128 jobs, not all: measured here, 18 to 110 of them fit in 400 to 500 KB.
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(used + 450 * 1024));
      const ports = Array.from({ length: 128 }, (_, i) => 20_000 + i);

      const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports });
      await admin.config('SET', 'maxmemory', '0');

      expect(status).toBe(503);
      expect(body.detail).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('out of memory') });
      // Some jobs were added (the queue's event stream keeps saying so), and none is left.
      const events = await admin.xrange(`bull:${service.config.queueName}:events`, '-', '+');
      const added = events.filter(([, fields]) => fields[1] === 'added').length;
      expect(added).toBeGreaterThan(0);
      expect(added).toBeLessThan(128);
      await expect.poll(() => service!.jobCount()).toBe(0);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => {});
      admin.disconnect();
    }
  });
});
