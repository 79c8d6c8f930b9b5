import { afterEach, describe, expect, it } from 'vitest';
import { ErrorResponse } from '@port-checker/shared';
import { filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';

/** Polls for up to 10 s: processes start and connect in their own time on a busy machine. */
const SOON = { timeout: 10_000 };

let service: Service | undefined;
let redis: RedisServer | undefined;
let listeners: Ports[] = [];
afterEach(async () => {
  await redis?.start();
  await service?.stop();
  await redis?.stop();
  await Promise.all(listeners.map((l) => l.close()));
  service = undefined;
  redis = undefined;
  listeners = [];
});

async function ready(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, body: await response.json() };
}

const notReady = (code: string, message: RegExp) => ({ detail: { code, message: expect.stringMatching(message) } });

describe('GET /ready', () => {
  it('is 503 NOT_READY while no worker serves the queue, and 200 once one does', async () => {
    service = await startService({ workers: 0 });

    const before = await ready(service.url);
    expect(before.status).toBe(503);
    expect(ErrorResponse.parse(before.body)).toEqual(notReady('NOT_READY', /no worker.*queue "test-/));

    const worker = service.startWorker();
    await worker.waitUntilReady();
    await expect.poll(() => ready(service!.url), SOON).toEqual({ status: 200, body: { status: 'ready', workers: 1 } });

    await worker.close();
    await expect.poll(async () => (await ready(service!.url)).status, SOON).toBe(503);
  });

  it('counts every worker connected to the queue', async () => {
    service = await startService({ workers: 2 });
    await expect.poll(async () => (await ready(service!.url)).body, SOON).toEqual({ status: 'ready', workers: 2 });
  });

  it('is 503 SERVICE_UNAVAILABLE, saying so, when Redis does not answer', async () => {
    redis = await startRedisServer();
    service = await startService({ redisUrl: redis.url });
    await expect.poll(async () => (await ready(service!.url)).status, SOON).toBe(200);

    await redis.stop();

    // Redis is asked at most once a second: the answer may be a second old.
    await expect.poll(async () => (await ready(service!.url)).status, SOON).toBe(503);
    const { body } = await ready(service.url);
    expect(body).toEqual(notReady('SERVICE_UNAVAILABLE', /Redis does not answer/));
    await redis.start();
    await expect.poll(async () => (await ready(service!.url)).status, { timeout: 15_000 }).toBe(200);
  });

  it('is 503 while shutting down; checks in flight still finish and new ones are refused', async () => {
    service = await startService({ env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const filtered = await filteredPorts(1);
    const open = await openPorts(1);
    listeners.push(filtered, open);
    await expect.poll(async () => (await ready(service!.url)).status, SOON).toBe(200);
    const inFlight = service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });
    await expect.poll(() => service!.api.queue.pending, SOON).toBe(1);

    const closing = service.api.close();

    const during = await ready(service.url);
    expect(during.status).toBe(503);
    expect(during.body).toEqual(notReady('NOT_READY', /shutting down/));
    const refused = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    expect(refused.status).toBe(503);
    expect(refused.body.detail.code).toBe('SERVICE_UNAVAILABLE');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.results[filtered.ports[0]!]).toMatchObject({ state: 'filtered' });
    await closing;
    await expect(fetch(`${service.url}/health`)).rejects.toThrow();
    expect(service.apiLogs.lines.filter((l) => l.msg === 'shutdown step done').map((l) => l.step)).toEqual([
      'drain checks in flight',
      'http server',
      'admin server',
      'job queue',
      'redis',
    ]);
  });
});
