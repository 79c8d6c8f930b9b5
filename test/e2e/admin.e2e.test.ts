import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorRedis, startRedisServer, type RedisMonitor, type RedisServer } from '../support/redis.js';
import { servicePerTest } from '../support/service-per-test.js';

const service = servicePerTest();

describe('the admin listener', () => {
  it('serves both apps\' metrics on loopback by default, apart from the public port, which has no /metrics', async () => {
    // The public API on ::1, so that the admin listener's 127.0.0.1 can only be its own default.
    const { url, api, startWorkerService } = await service.start({ env: { PORT_CHECKER_HOST: '::1' }, workers: 0 });
    const worker = await startWorkerService();

    expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(api.metricsUrl)).status).toBe(200);
    expect((await fetch(worker.metricsUrl)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });

  it('listens where PORT_CHECKER_ADMIN_HOST says', async () => {
    const { api, startWorkerService } = await service.start({ env: { PORT_CHECKER_ADMIN_HOST: '::1' }, workers: 0 });
    const worker = await startWorkerService();

    expect(api.metricsUrl).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
    expect(worker.metricsUrl).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
    expect((await fetch(api.metricsUrl)).status).toBe(200);
  });
});

describe('GET /ready and the queue gauges', () => {
  // A Redis of its own, so that only this service's commands are seen.
  let redis: RedisServer;
  let stats: Redis;
  let monitor: RedisMonitor | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
    stats = new Redis(redis.url);
  });
  afterAll(async () => {
    monitor?.stop();
    stats?.disconnect();
    await redis?.stop();
  });

  // CLIENT LIST (how BullMQ counts workers) is left out of MONITOR; only the API runs it here.
  const clientListCalls = async (): Promise<number> =>
    Number(/^cmdstat_client\|list:calls=(\d+)/m.exec(await stats.info('commandstats'))?.[1] ?? 0);

  it('read Redis at most once a second however often they are asked', async () => {
    const { url, api } = await service.start({ redisUrl: redis.url, workers: 1 });
    monitor = await monitorRedis(redis.url);
    const workerReadsBefore = await clientListCalls();

    const started = performance.now();
    for (let round = 0; round < 5; round += 1) {
      const answers = await Promise.all([
        ...Array.from({ length: 20 }, () => fetch(`${url}/ready`)),
        ...Array.from({ length: 20 }, () => fetch(api.metricsUrl)),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
      await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    }
    const seconds = (performance.now() - started) / 1000;
    await monitor.flush();

    const workerReads = (await clientListCalls()) - workerReadsBefore;
    // The queue gauges count active and delayed jobs, which the overload guard never asks for.
    const jobCountReads = monitor.commands.filter((args) => /^eval(sha)?$/i.test(args[0]!) && args.includes('delayed'));
    const allowed = Math.ceil(seconds) + 1;
    expect(workerReads).toBeGreaterThan(0);
    expect(workerReads).toBeLessThanOrEqual(allowed);
    expect(jobCountReads.length).toBeGreaterThan(0);
    expect(jobCountReads.length).toBeLessThanOrEqual(allowed);
  });
});
