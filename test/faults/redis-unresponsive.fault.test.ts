import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this file's own, which it pauses: connected, but answering nothing.
let redis: RedisServer;
let admin: Redis;
let service: Service;
let open: Ports;
beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
  service = await startService({ redisUrl: redis.url });
  open = await openPorts(1);
});
afterAll(async () => {
  await admin?.client('UNPAUSE');
  await admin?.quit();
  await service?.stop();
  await redis?.stop();
  await open?.close();
});

describe('a Redis that is connected but does not answer', () => {
  it('gets 503 SERVICE_UNAVAILABLE within a few seconds, not a hang', async () => {
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);

    await admin.client('PAUSE', 10_000, 'ALL');
    const { status, body, headers, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    await admin.client('UNPAUSE');

    expect(status).toBe(503);
    expect(body.detail.code).toBe('SERVICE_UNAVAILABLE');
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    // The bound is the behaviour: ended by the API's 2 s command timeout, not by Redis answering
    // when its 10 s pause is over. 6 s leaves 4 s of slack on either side.
    expect(elapsedMs).toBeLessThan(6000);
  });
});
