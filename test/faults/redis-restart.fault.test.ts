import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  it('ends the request in flight at its deadline with 503 CHECK_FAILED: its result cannot come back through Redis', async () => {
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);
    const probing = once(service.workers[0]!, 'active');
    const inFlight = service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });
    await probing;

    // The job is active: the worker is in a probe that lasts until its deadline (the port never
    // answers), and Redis goes before it ends. The result can neither be written nor read, so
    // never a 200; and the job was added before, so not SERVICE_UNAVAILABLE either.
    await redis.stop();
    const { status, body, headers, elapsedMs } = await inFlight;

    expect(status).toBe(503);
    expect(body.detail).toEqual({
      code: 'CHECK_FAILED',
      message: 'could not check every port: not every probe finished before the deadline; try again or ask another checker',
    });
    expect(headers.get('retry-after')).toBe('5');
    // Answered at the 3 s deadline, measured from the caller's side; 2 s of slack for a loaded
    // machine. Not answering at it would mean waiting for Redis: here, until the test times out.
    expect(elapsedMs).toBeLessThan(deadlineMs + 2000);
    await Promise.all(
      [service.apiLogs, service.workerLogs].map((logs) =>
        expect.poll(() => logs.lines.some((line) => line.msg === 'redis connection lost')).toBe(true),
      ),
    );
  });

  it('answers a new check 503 SERVICE_UNAVAILABLE with Retry-After at once while Redis is down, and /health stays up', async () => {
    const { status, body, headers, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });

    // Refused when its jobs cannot be added (budgets are off here, so the queue is the first to
    // need Redis), not left to wait for a deadline.
    expect(status).toBe(503);
    expect(body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'the job queue (Redis) is not reachable; try again shortly' });
    expect(headers.get('retry-after')).toBe('5');
    // The bound is the behaviour: the API does not queue the command for later (fail-fast
    // connection). A refusal takes milliseconds; waiting would take the whole 3 s deadline at least.
    expect(elapsedMs).toBeLessThan(deadlineMs);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect(await fetch(`${service.url}/ready`).then((response) => response.status)).toBe(503);
  });

  it('is survived by API and worker: once both have reconnected, the next check is 200, with no restart by hand', async () => {
    const restored = [service.apiLogs, service.workerLogs].map((logs) =>
      expect.poll(() => logs.lines.some((line) => line.msg === 'redis connection restored'), { timeout: 15_000 }).toBe(true),
    );
    await redis.start();
    await Promise.all(restored);

    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    expect(status).toBe(200);
    expect(body.results[open.ports[0]!]).toMatchObject({ accessible: true, state: 'open' });
  });
});
