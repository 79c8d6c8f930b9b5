import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { spawnApp, type AppProcess } from '../support/processes.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';

// Bounded and on loopback only: RATE requests a second (two open ports and one closed each)
// for SECONDS, against the API and a worker in processes of their own on a Redis of its own.
const RATE = 50;
const SECONDS = 90;
const WARM_UP_SECONDS = 30;
const MB = 1024 * 1024;

let redis: RedisServer;
let client: Redis;
let api: AppProcess;
let worker: AppProcess;
let open: Ports;
let url: string;

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  open = await openPorts(2);
  const env = {
    REDIS_URL: redis.url,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: '0',
    PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
    PORT_CHECK_DEADLINE: '3',
    PORT_CHECK_EVENTS_MAX_LEN: '10000',
    PORT_CHECKER_ADMIN_PORT: '0',
    PORT_CHECKER_RATE_LIMIT_PORTS: '0',
    PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0',
    PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '0',
    PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS: '0',
  };
  api = spawnApp('api', env);
  worker = spawnApp('worker', env);
  url = String((await api.waitForLine((line) => line.msg === 'api listening')).url);
  await worker.waitForLine((line) => line.msg === 'worker started');
}, 60_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await client?.quit();
  await redis?.stop();
  await open?.close();
});

interface Sample {
  apiRss: number;
  workerRss: number;
  apiFds: number;
  workerFds: number;
  redisMemory: number;
  redisKeys: number;
}

async function sample(): Promise<Sample> {
  const info = await client.info('memory');
  return {
    apiRss: api.rss(),
    workerRss: worker.rss(),
    apiFds: api.fds(),
    workerFds: worker.fds(),
    redisMemory: Number(/used_memory:(\d+)/.exec(info)![1]),
    redisKeys: await client.dbsize(),
  };
}

describe('a soak at a steady rate', () => {
  it(`runs ${RATE} checks/s for ${SECONDS} s with no errors and flat memory, sockets and Redis`, async () => {
    const [closed] = await closedPorts(1);
    const body = JSON.stringify({ provider_ip: '127.0.0.1', ports: [...open.ports, closed] });
    const statuses = new Map<number | string, number>();
    const requests: Promise<void>[] = [];
    let warm: Sample | undefined;

    const started = performance.now();
    for (let i = 0; i < RATE * SECONDS; i += 1) {
      // Paced by the clock, so a slow answer does not slow the rate down.
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!warm && i === RATE * WARM_UP_SECONDS) warm = await sample();
      requests.push(
        fetch(`${url}/check-ports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) })
          .then(async (response) => {
            const json = (await response.json()) as { success?: boolean };
            const key = response.status === 200 && json.success ? 200 : `${response.status}`;
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
          })
          .catch((error: Error) => void statuses.set(error.name, (statuses.get(error.name) ?? 0) + 1)),
      );
    }
    const end = await sample();
    await Promise.all(requests);
    const elapsed = (performance.now() - started) / 1000;

    const errors = [...statuses].filter(([key]) => key !== 200).reduce((sum, [, n]) => sum + n, 0);
    const fmt = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
    process.stdout.write(
      `\nsoak: ${requests.length} requests at ${RATE}/s over ${elapsed.toFixed(0)} s, ${errors} errors; ` +
        `after ${WARM_UP_SECONDS} s warm-up → end: api rss ${fmt(warm!.apiRss)} → ${fmt(end.apiRss)}, ` +
        `worker rss ${fmt(warm!.workerRss)} → ${fmt(end.workerRss)}, redis used_memory ${fmt(warm!.redisMemory)} → ${fmt(end.redisMemory)}, ` +
        `redis keys ${warm!.redisKeys} → ${end.redisKeys}, fds api ${warm!.apiFds} → ${end.apiFds}, worker ${warm!.workerFds} → ${end.workerFds}\n`,
    );

    expect(Object.fromEntries(statuses)).toEqual({ 200: RATE * SECONDS });
    expect(end.apiRss).toBeLessThan(warm!.apiRss * 1.2 + 10 * MB);
    expect(end.workerRss).toBeLessThan(warm!.workerRss * 1.2 + 10 * MB);
    expect(end.redisMemory).toBeLessThan(warm!.redisMemory * 1.2 + 1 * MB);
    expect(end.redisKeys).toBeLessThan(warm!.redisKeys * 1.2 + 100);
    expect(end.apiFds).toBeLessThanOrEqual(warm!.apiFds + 10);
    expect(end.workerFds).toBeLessThanOrEqual(warm!.workerFds + 10);
  }, (SECONDS + 60) * 1000);
});
