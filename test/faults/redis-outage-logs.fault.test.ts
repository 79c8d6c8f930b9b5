import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, valueOf } from '../support/metrics.js';
import { spawnApp, type AppProcess, type LogLine } from '../support/processes.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

// The API and a worker as real processes, on a Redis of this file's own, which it stops for a
// while: what they log about it, and what their metrics count.
let redis: RedisServer;
let api: AppProcess;
let worker: AppProcess;
let apiUrl: string;
let metricsUrls: Record<'api' | 'worker', string>;
beforeAll(async () => {
  redis = await startRedisServer();
  const env = {
    REDIS_URL: redis.url,
    PORT_CHECKER_QUEUE: `test-${randomUUID()}`,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: '0',
    PORT_CHECKER_ADMIN_PORT: '0',
  };
  api = spawnApp('api', env);
  worker = spawnApp('worker', env);
  const [listening, started] = await Promise.all([
    api.waitForLine((line) => line.msg === 'api listening'),
    worker.waitForLine((line) => line.msg === 'worker started'),
  ]);
  apiUrl = listening.url as string;
  metricsUrls = { api: listening.metricsUrl as string, worker: started.metricsUrl as string };
});
afterAll(async () => {
  await redis?.start();
  await Promise.all([api?.stop(), worker?.stop()]);
  await redis?.stop();
});

const errorsCounted = async (app: 'api' | 'worker'): Promise<number> =>
  valueOf(await scrape(metricsUrls[app]), 'port_checker_redis_connection_errors_total') ?? 0;

describe('a Redis outage of a few seconds', () => {
  it('is logged once by each app when it begins (the reason, no stack) and once when it ends (how long), and counted in between', async () => {
    await expect.poll(async () => (await fetch(`${apiUrl}/ready`)).status, { timeout: 10_000 }).toBe(200);
    for (const app of ['api', 'worker'] as const) expect(await errorsCounted(app)).toBe(0);
    const before = { api: api.lines.length, worker: worker.lines.length };

    await redis.stop();
    await Promise.all([api, worker].map((app) => app.waitForLine((line) => line.msg === 'redis connection lost')));
    // Let each app fail to reconnect a few times (every 0.1 to 2 s): the reconnect attempts that
    // used to log a line (with a stack, in the worker) each.
    for (const app of ['api', 'worker'] as const) {
      await expect.poll(() => errorsCounted(app), { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(5);
    }
    await redis.start();
    await Promise.all([api, worker].map((app) => app.waitForLine((line) => line.msg === 'redis connection restored')));

    for (const [app, name] of [[api, 'api'], [worker, 'worker']] as const) {
      const during: LogLine[] = app.lines.slice(before[name]);
      const lost = during.filter((line) => line.msg === 'redis connection lost');
      const restored = during.filter((line) => line.msg === 'redis connection restored');
      expect(lost, name).toHaveLength(1);
      expect(lost[0], name).toMatchObject({ level: 40, reason: expect.stringMatching(/ECONNREFUSED/), connection: expect.any(String) });
      expect(restored, name).toHaveLength(1);
      expect(restored[0], name).toMatchObject({ level: 30, downMs: expect.any(Number) });
      expect(restored[0]!.downMs as number, name).toBeGreaterThan(0);
      // Nothing else said about it: no warning or error per reconnect attempt, no stack anywhere.
      expect(during.filter((line) => (line.level as number) >= 40), name).toEqual(lost);
      expect(during.filter((line) => JSON.stringify(line).includes('"stack"')), name).toEqual([]);
      expect(await errorsCounted(name), name).toBeGreaterThanOrEqual(5);
    }
    await expect.poll(async () => (await fetch(`${apiUrl}/ready`)).status, { timeout: 10_000 }).toBe(200);
  });
});
