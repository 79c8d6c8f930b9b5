import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { startApi, type RunningApi } from '../../apps/api/src/server.js';
import { captureLogs } from '../support/log-capture.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

let redis: RedisServer | undefined;
let api: RunningApi | undefined;
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

describe('an API started before Redis', () => {
  it('waits for Redis instead of crashing, and serves once it is up', async () => {
    redis = await startRedisServer();
    await redis.stop();
    const logs = captureLogs('api');
    const config = loadConfig({
      REDIS_URL: redis.url,
      PORT_CHECKER_HOST: '127.0.0.1',
      PORT_CHECKER_PORT: '0',
      PORT_CHECKER_ADMIN_PORT: '0',
    });

    const starting = startApi(config, logs.logger);
    await expect.poll(() => logs.lines.filter((line) => line.msg === 'redis connection error').length).toBeGreaterThan(0);
    await redis.start();
    api = await starting;

    expect(logs.lines.some((line) => line.msg === 'waiting for Redis')).toBe(true);
    const response = await fetch(`${api.url}/check-ports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider_ip: '127.0.0.1', ports: [1] }),
    });
    // Refused by the target policy (local targets are not allowed): no worker runs, nothing is probed.
    expect(response.status).toBe(403);
  });
});
