import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { startApi, type RunningApi } from '../../apps/api/src/server.js';
import { startProbeWorker } from '../../apps/worker/src/probe.worker.js';
import { openPorts, type Ports } from '../support/listeners.js';
import { captureLogs } from '../support/log-capture.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

let redis: RedisServer | undefined;
let api: RunningApi | undefined;
let worker: Worker | undefined;
let open: Ports | undefined;
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await redis?.stop();
  await open?.close();
});

describe('an API started before Redis', () => {
  it('waits for Redis instead of crashing, and once it is up checks through it: 200 with the port open', async () => {
    redis = await startRedisServer();
    await redis.stop();
    open = await openPorts(1);
    const logs = captureLogs('api');
    const config = loadConfig({
      REDIS_URL: redis.url,
      PORT_CHECKER_QUEUE: `test-${randomUUID()}`,
      PORT_CHECKER_HOST: '127.0.0.1',
      PORT_CHECKER_PORT: '0',
      PORT_CHECKER_ADMIN_PORT: '0',
      // The loopback target passes the target policy, so that the answer has to come through Redis:
      // the budgets' charge, the job, a worker's result. (Budgets stay at their defaults: on.)
      PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
    });

    let started = false;
    const starting = startApi(config, logs.logger).then((running) => {
      started = true;
      return running;
    });
    await expect.poll(() => logs.lines.filter((line) => line.msg === 'redis connection error').length).toBeGreaterThan(0);
    // Still waiting, not crashed and not listening on a half-made app: startApi has not resolved.
    expect(started).toBe(false);
    expect(logs.lines.some((line) => line.msg === 'waiting for Redis')).toBe(true);

    await redis.start();
    api = await starting;
    worker = startProbeWorker(config, captureLogs('worker').logger);

    const response = await fetch(`${api.url}/check-ports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider_ip: '127.0.0.1', ports: open.ports }),
    });
    const body = (await response.json()) as { results: Record<string, unknown> };
    expect(response.status).toBe(200);
    expect(body.results[open.ports[0]!]).toMatchObject({ accessible: true, state: 'open', attempts: 1 });
    // Charged to the client's budget in that Redis: the limiter works too, not only the queue.
    expect(response.headers.get('ratelimit-remaining')).toBe(String(config.security.budgets.clientPorts - 1));
  });
});
