import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { spawnApp, type AppProcess } from '../support/processes.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

// The API and a worker as `main` runs them, at debug level, on a Redis of this file's own that asks
// for a password, with an API token: neither secret may reach a log line or stderr, from the start
// through checks, refused tokens, a Redis outage and the reconnects after it, to the shutdown.
// (packages/shared/test/logger-secrets.test.ts tests the logger's redaction on its own.)
const PASSWORD = 'redis-pw-5f1c9a70e3';
const TOKEN = 'api-token-0d4e8b27c6a1';

let redis: RedisServer;
let open: Ports;
const apps: AppProcess[] = [];
const stderr: string[] = [];
afterAll(async () => {
  await redis?.start();
  await Promise.all(apps.map((app) => app.stop()));
  await redis?.stop();
  await open?.close();
});

/** Makes the file's Redis ask for PASSWORD: it keeps no config, so again after each start. */
async function requirePassword(): Promise<void> {
  const admin = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null });
  try {
    await admin.connect();
    await admin.config('SET', 'requirepass', PASSWORD);
  } finally {
    admin.disconnect();
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  await requirePassword();
  open = await openPorts(1);
});

describe('the Redis password and the API token', () => {
  it('never appear in what the apps write, whatever happens', { timeout: 60_000 }, async () => {
    const withPassword = new URL(redis.url);
    withPassword.password = PASSWORD;
    const env = {
      REDIS_URL: withPassword.href,
      PORT_CHECKER_API_TOKEN: TOKEN,
      PORT_CHECKER_QUEUE: `test-${randomUUID()}`,
      PORT_CHECKER_HOST: '127.0.0.1',
      PORT_CHECKER_PORT: '0',
      PORT_CHECKER_ADMIN_PORT: '0',
      PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
      PORT_CHECKER_DEBUG: 'true',
    };
    const api = spawnApp('api', env);
    const worker = spawnApp('worker', env);
    apps.push(api, worker);
    for (const app of apps) app.child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const [listening] = await Promise.all([
      api.waitForLine((line) => line.msg === 'api listening'),
      worker.waitForLine((line) => line.msg === 'worker started'),
    ]);
    const check = async (authorization?: string): Promise<number> => {
      const response = await fetch(`${listening.url as string}/check-ports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: JSON.stringify({ provider_ip: '127.0.0.1', ports: open.ports }),
      });
      await response.arrayBuffer();
      return response.status;
    };

    // The password is really in use: without it, this Redis answers nothing.
    const anonymous = new Redis(redis.url, { lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null });
    anonymous.on('error', () => {});
    await anonymous.connect();
    await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();

    expect(await check(`Bearer ${TOKEN}`)).toBe(200);
    expect(await check('Bearer wrong-guess-0123456789')).toBe(401);
    expect(await check()).toBe(401);

    // An outage: the errors, the 503's cause and the reconnects are where connection details show.
    await redis.stop();
    expect(await check(`Bearer ${TOKEN}`)).toBe(503);
    await Promise.all(apps.map((app) => app.waitForLine((line) => line.msg === 'redis connection lost')));
    await redis.start();
    await requirePassword();
    await vi.waitFor(async () => expect(await check(`Bearer ${TOKEN}`)).toBe(200), { timeout: 20_000, interval: 200 });

    await Promise.all(apps.map((app) => app.stop()));

    // What was written covers the path above, so that "no secret in it" means something.
    const messages = (app: AppProcess): unknown[] => app.lines.map((line) => line.msg);
    expect(messages(api)).toEqual(expect.arrayContaining(['api listening', 'request', 'request failed', 'redis connection lost', 'stopped']));
    expect(messages(worker)).toEqual(expect.arrayContaining(['worker started', 'probe finished', 'redis connection lost', 'stopped']));
    expect(api.lines.filter((line) => line.path === '/check-ports').map((line) => line.status)).toEqual(
      expect.arrayContaining([200, 401, 503]),
    );
    const written = JSON.stringify([...api.lines, ...worker.lines]) + stderr.join('');
    expect(written).not.toContain(PASSWORD);
    expect(written).not.toContain(TOKEN);
  });
});
