import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this file's own, so that stopping it disturbs no other test.
let redis: RedisServer;
let service: Service;
let open: Ports;
beforeAll(async () => {
  redis = await startRedisServer();
  service = await startService({ redisUrl: redis.url });
  open = await openPorts(1);
});
afterAll(async () => {
  await redis.start().catch(() => {});
  await service?.stop();
  await redis?.stop();
  await open?.close();
});

describe('when Redis stops', () => {
  it('answers 503 SERVICE_UNAVAILABLE with Retry-After within a second or two, and /health stays up', async () => {
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);

    await redis.stop();
    const { status, body, headers, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });

    expect(status).toBe(503);
    expect(body.detail.code).toBe('SERVICE_UNAVAILABLE');
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    expect(elapsedMs).toBeLessThan(2000);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('checks again once Redis is back, with no restart by hand', async () => {
    await redis.start();
    await vi.waitFor(
      async () => expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200),
      { timeout: 15_000, interval: 250 },
    );
  });
});
