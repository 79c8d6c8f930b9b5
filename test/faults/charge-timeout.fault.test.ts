import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { BUDGETS_OFF, startService, type Service } from '../support/service.js';

// A Redis of this test's own, which it pauses for longer than the API's 2 s command timeout.
let redis: RedisServer | undefined;
let admin: Redis | undefined;
let service: Service | undefined;
let open: Ports | undefined;
afterEach(async () => {
  await admin?.client('UNPAUSE').catch(() => {});
  admin?.disconnect();
  await service?.stop();
  await redis?.stop();
  await open?.close();
  redis = admin = service = open = undefined;
});

describe('a charge whose call timed out on the API', () => {
  it('is taken back once Redis answers, so that a client answered 503 is not left charged', async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
    open = await openPorts(2);
    // The client's whole budget is 2 ports a minute (the cap on ports in flight at 2 too, the mark of a charge).
    const env = { ...BUDGETS_OFF, PORT_CHECKER_RATE_LIMIT_PORTS: '2', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '2', PORT_CHECK_MAX_PORTS: '2' };
    service = await startService({ redisUrl: redis.url, env });
    const body = { provider_ip: '127.0.0.1', ports: open.ports };

    // Paused: the charge is sent, times out on the API after 2 s, and runs when the pause ends at 3 s.
    await admin.client('PAUSE', 3000, 'ALL');
    const timedOut = await service.check(body);
    expect(timedOut.body.detail).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('rate limiter') });

    // Once Redis answers, the whole budget is the client's again: without the take-back, 429 until the window ends.
    await expect.poll(async () => (await service!.check(body)).status, { timeout: 6000, interval: 500 }).toBe(200);
  });
});
