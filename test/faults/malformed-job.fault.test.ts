import { once } from 'node:events';
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_JOB_NAME } from '@port-checker/shared';
import { openPorts, type Ports } from '../support/listeners.js';
import { redisUrlOf, startService, type Service } from '../support/service.js';

let service: Service;
let queue: Queue;
let open: Ports;
beforeAll(async () => {
  service = await startService();
  queue = new Queue(service.config.queueName, { connection: { url: redisUrlOf(service.config) } });
  open = await openPorts(1);
});
afterAll(async () => {
  await queue?.close();
  await service?.stop();
  await open?.close();
});

describe('a job written into Redis by hand', () => {
  it.each([
    ['garbage', { hello: 'world' }],
    ['a hostname target', { host: 'example.com', port: 80, timeoutMs: 100, maxAttempts: 1, retryDelayMs: 0, retryRefused: false, deadline: Date.now() + 60_000 }],
    ['a port out of range', { host: '127.0.0.1', port: 70_000, timeoutMs: 100, maxAttempts: 1, retryDelayMs: 0, retryRefused: false, deadline: Date.now() + 60_000 }],
  ])('with %s fails at once as unrecoverable, and the worker keeps working', async (_name, data) => {
    const failed = once(service.workers[0]!, 'failed') as Promise<[Job, Error]>;
    await queue.add(PROBE_JOB_NAME, data, { attempts: 3 });

    const [job, error] = await failed;

    expect(error.name).toBe('UnrecoverableError');
    expect(error.message).toMatch(/malformed probe job/);
    expect(job.attemptsMade).toBe(1);
    expect((await service.check({ provider_ip: '127.0.0.1', ports: open.ports })).status).toBe(200);
  });
});
