import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

// A Redis of this file's own, so that stopping it disturbs no other test.
let redis: RedisServer;
let service: Service;
let open: Ports;
let filtered: Ports;
const deadlineMs = 3000;

beforeAll(async () => {
  redis = await startRedisServer();
  service = await startService({
    redisUrl: redis.url,
    env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRY_DELAY: '0.1', PORT_CHECK_RETRIES: '2', PORT_CHECK_DEADLINE: String(deadlineMs / 1000) },
  });
  open = await openPorts(1);
  filtered = await filteredPorts(1);
});
afterAll(async () => {
  await redis.start();
  await service?.stop();
  await redis?.stop();
  await open?.close();
  await filtered?.close();
});

describe('a Redis restart', () => {
  it('ends the requests in flight by their deadline, with 200 or 503 CHECK_FAILED', async () => {
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);
    const probing = once(service.workers[0]!, 'active');
    const inFlight = service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });
    await probing;

    await redis.stop();
    const { status, body, elapsedMs } = await inFlight;

    expect([200, 503]).toContain(status);
    if (status === 503) expect(body.detail.code).toBe('CHECK_FAILED');
    expect(elapsedMs).toBeLessThan(deadlineMs + 1000);
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After within a second or two while Redis is down, and /health stays up', async () => {
    const { status, body, headers, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });

    expect(status).toBe(503);
    expect(body.detail.code).toBe('SERVICE_UNAVAILABLE');
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    expect(elapsedMs).toBeLessThan(2000);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('is survived by API and worker: checks succeed again within seconds, with no restart by hand', async () => {
    await redis.start();
    const back = performance.now();
    await vi.waitFor(
      async () => expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200),
      { timeout: 15_000, interval: 200 },
    );
    expect(performance.now() - back).toBeLessThan(10_000);
  });
});
