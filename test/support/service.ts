import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import { inject } from 'vitest';
import { connectRedis, loadConfig, PROBE_JOB_NAME, type CheckPortsResponse, type Config, type ErrorResponse, type ProbeJob } from '@port-checker/shared';
import { startApi, type RunningApi } from '../../apps/api/src/server.js';
import { startProbeWorker } from '../../apps/worker/src/probe.worker.js';
import type { ProbeHooks } from '../../apps/worker/src/probe.processor.js';
import { startWorkerService, type RunningWorker } from '../../apps/worker/src/service.js';
import { captureLogs, type CapturedLogs } from './log-capture.js';

export interface ServiceOptions {
  /** Variables on top of the test defaults (local targets allowed, no rate limits, a fresh queue). */
  env?: Record<string, string>;
  workers?: number;
  redisUrl?: string;
  /** Where Redis is, as variables (REDIS_SENTINELS…), instead of `redisUrl`. */
  redisEnv?: Record<string, string>;
}

export interface CheckAnswer {
  status: number;
  headers: Headers;
  body: CheckPortsResponse & ErrorResponse;
  elapsedMs: number;
}

/** Every budget off: what `startService` runs with unless a test's env says otherwise. */
export const BUDGETS_OFF = {
  PORT_CHECKER_RATE_LIMIT_PORTS: '0',
  PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0',
  PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '0',
  PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS: '0',
};
/** The env of every app a test spawns (spawnApp): its Redis and queue, local targets allowed, budgets off. */
export function appEnv(redisUrl: string, queue: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    PORT_CHECKER_QUEUE: queue,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: '0',
    PORT_CHECKER_ADMIN_PORT: '0',
    PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
    ...BUDGETS_OFF,
    ...env,
  };
}

/** Every budget as a checker has it by default: empty counts as unset. */
export const BUDGETS_AT_DEFAULTS = Object.fromEntries(Object.keys(BUDGETS_OFF).map((name) => [name, '']));

/**
 * The real service in-process: the API on a free loopback port and BullMQ workers, on the
 * test's Redis with a queue of its own. The same `startApi` and `startProbeWorker` that the
 * apps' `main` files run.
 */
export async function startService({ env = {}, workers = 1, redisUrl = inject('redisUrl'), redisEnv = { REDIS_URL: redisUrl } }: ServiceOptions = {}) {
  const config: Config = loadConfig({
    ...redisEnv,
    PORT_CHECKER_QUEUE: `test-${randomUUID()}`,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: '0',
    PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
    // Tests send many requests from 127.0.0.1; the rate-limit tests turn the limits on.
    ...BUDGETS_OFF,
    PORT_CHECKER_ADMIN_PORT: '0',
    ...env,
  });
  const apiLogs = captureLogs('api');
  const workerLogs = captureLogs('worker');
  const api: RunningApi = await startApi(config, apiLogs.logger);
  const running: Worker[] = [];
  const replicas: RunningApi[] = [];
  const services: RunningWorker[] = [];

  const service = {
    config,
    url: api.url,
    api,
    apiLogs: apiLogs as CapturedLogs,
    workerLogs: workerLogs as CapturedLogs,
    workers: running,

    startWorker(hooks: ProbeHooks = {}, overrides: Partial<Config> = {}): Worker {
      const worker = startProbeWorker({ ...config, ...overrides }, workerLogs.logger, hooks);
      running.push(worker);
      return worker;
    },

    /** A worker as `main` runs it: with its metrics server, on a free port; `overrides` make it a vantage's, say. */
    async startWorkerService(hooks: ProbeHooks = {}, overrides: Partial<Config> = {}): Promise<RunningWorker> {
      const worker = await startWorkerService({ ...config, ...overrides }, workerLogs.logger, hooks);
      services.push(worker);
      return worker;
    },

    /** Another API process on the same Redis and queue, as a second replica would be. */
    async startReplica(): Promise<RunningApi> {
      const replica = await startApi(config, apiLogs.logger);
      replicas.push(replica);
      return replica;
    },

    /** POSTs a JSON body (or a raw string) to /check-ports, of `url` if given (a replica's). */
    async check(body: unknown, init: { headers?: Record<string, string>; url?: string } = {}): Promise<CheckAnswer> {
      const started = performance.now();
      const response = await fetch(`${init.url ?? api.url}/check-ports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const parsed = (await response.json()) as CheckAnswer['body'];
      return { status: response.status, headers: response.headers, body: parsed, elapsedMs: performance.now() - started };
    },

    /**
     * Adds a probe job outside any check, as an API leaves one that dies mid-check (a living API
     * removes the waiting jobs of a check it gave up on): its port of 127.0.0.1, with the
     * service's probe settings and `deadline`.
     */
    async addJob(port: number, deadline: number): Promise<void> {
      const data: ProbeJob = { host: '127.0.0.1', port, deadline, ...config.probe };
      await withQueue(config, (queue) => queue.add(PROBE_JOB_NAME, data));
    },

    /** Jobs in the queue in any state: proves whether anything was enqueued. */
    async jobCount(): Promise<number> {
      const counts = await withQueue(config, (queue) => queue.getJobCounts());
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },

    async stop(): Promise<void> {
      await Promise.all([...running.map((worker) => worker.close()), ...services.map((worker) => worker.close())]);
      for (const instance of [api, ...replicas]) {
        instance.server.closeAllConnections();
        await instance.close();
      }
      await withQueue(config, (queue) => queue.obliterate({ force: true })).catch(() => {});
    },
  };
  for (let i = 0; i < workers; i += 1) service.startWorker();
  return service;
}

export type Service = Awaited<ReturnType<typeof startService>>;

/** Runs `use` on a queue handle of the test's own, on the service's Redis, closed afterwards. */
async function withQueue<T>(config: Config, use: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = connectRedis(config.redis, 'failFast');
  const queue = new Queue(config.queueName, { connection });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** The Redis URL of a service started on one Redis (REDIS_URL), for tests that connect to it themselves. */
export function redisUrlOf(config: Config): string {
  if (config.redis.kind !== 'url') throw new Error(`not a REDIS_URL service: ${config.redis.kind}`);
  return config.redis.url;
}
