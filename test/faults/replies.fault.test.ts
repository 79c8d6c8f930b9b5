// Results travel as replies to the API process that waits (probe-reply.ts). Real processes on a
// Redis of this file's own: an API killed mid-check and one started in its place, and a worker
// killed mid-probe, lose nothing and mix nothing up.
import { once } from 'node:events';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckPortsResponse } from '@port-checker/shared';
import { closedPorts, filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { spawnApp, type AppProcess } from '../support/processes.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { appEnv } from '../support/service.js';

let redis: RedisServer;
let client: Redis;
let events: QueueEvents;
let open: Ports;
let filtered: Ports;
let closed: number[];
const apps: AppProcess[] = [];
const QUEUE = 'replies-fault';

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  // The test's own view of the queue: it waits for jobs to become active or finished.
  events = new QueueEvents(QUEUE, { connection: { url: redis.url } });
  await events.waitUntilReady();
  [open, filtered, closed] = await Promise.all([openPorts(4), filteredPorts(2), closedPorts(4)]);
});
afterEach(async () => {
  await Promise.all(apps.map((app) => app.stop('SIGKILL')));
  apps.length = 0;
});
afterAll(async () => {
  await events?.close();
  await client?.quit();
  await redis?.stop();
  await Promise.all([open?.close(), filtered?.close()]);
});

function start(app: 'api' | 'worker', env: Record<string, string> = {}): AppProcess {
  const child = spawnApp(app, appEnv(redis.url, QUEUE, env));
  apps.push(child);
  return child;
}

async function listening(api: AppProcess): Promise<string> {
  return String((await api.waitForLine((line) => line.msg === 'api listening')).url);
}

async function check(url: string, ports: number[]): Promise<{ status: number; body: CheckPortsResponse; elapsedMs: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/check-ports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider_ip: '127.0.0.1', ports }),
  });
  return { status: response.status, body: (await response.json()) as CheckPortsResponse, elapsedMs: performance.now() - started };
}

const statesOf = (body: CheckPortsResponse) => Object.fromEntries(Object.entries(body.results).map(([port, result]) => [port, result.state]));

describe('replies, when processes die', () => {
  it('an API killed mid-check: its jobs still finish, and the API started in its place hears only its own results, at once', async () => {
    const worker = start('worker');
    const first = start('api');
    await worker.waitForLine((line) => line.msg === 'worker started');
    // A check that lasts (a filtered port: every attempt times out), held by the worker.
    const active = once(events, 'active');
    const abandoned = check(await listening(first), [filtered.ports[0]!]).catch(() => 'connection lost');
    const [{ jobId }] = (await active) as [{ jobId: string }];
    const finished = new Promise<void>((resolve) => events.on('completed', (event) => event.jobId === jobId && resolve()));
    await first.stop('SIGKILL');
    expect(await abandoned).toBe('connection lost');

    const second = start('api');
    const url = await listening(second);
    const answers = await Promise.all([
      check(url, [open.ports[0]!, closed[0]!]),
      check(url, [open.ports[1]!]),
      check(url, [closed[1]!]),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.map((answer) => statesOf(answer.body))).toEqual([
      { [open.ports[0]!]: 'open', [closed[0]!]: 'closed' },
      { [open.ports[1]!]: 'open' },
      { [closed[1]!]: 'closed' },
    ]);
    // By reply, not by the look-up at 6.75 s that a missed reply would wait for (loopback: ms).
    for (const answer of answers) expect(answer.elapsedMs).toBeLessThan(3000);
    // The dead process's probe ran to its end and was recorded; its reply reached nobody.
    await finished;
    expect(JSON.parse((await client.hget(`bull:${QUEUE}:${jobId}`, 'returnvalue'))!)).toMatchObject({ state: 'filtered' });
    const { replyTo } = JSON.parse((await client.hget(`bull:${QUEUE}:${jobId}`, 'data'))!) as { replyTo: string };
    const [, listeners] = (await client.pubsub('NUMSUB', `bull:${QUEUE}:replies:${replyTo}`)) as [string, number];
    expect(listeners).toBe(0);
  });

  it('a worker killed mid-probe: another takes the job up, and the check answers with its port\'s true state', async () => {
    // Long enough for the stalled job to reach the second worker (5 s lock, stalled checks every 2 s) and be probed.
    const env = { PORT_CHECK_DEADLINE: '20', PORT_CHECK_TIMEOUT: '2', PORT_CHECK_RETRIES: '1' };
    const doomed = start('worker', env);
    const api = start('api', env);
    await doomed.waitForLine((line) => line.msg === 'worker started');
    const active = once(events, 'active');
    const answer = check(await listening(api), [filtered.ports[1]!]);
    await active;
    const survivor = start('worker', env);
    await survivor.waitForLine((line) => line.msg === 'worker started');
    await doomed.stop('SIGKILL');

    const { status, body, elapsedMs } = await answer;
    expect(status).toBe(200);
    expect(body.results[String(filtered.ports[1])]).toMatchObject({ state: 'filtered', accessible: false, attempts: 1 });
    // The survivor's reply: about 7 to 9 s (taking the stalled job up, then a 2 s attempt), not the
    // look-up at 19.75 s that a lost reply would wait for.
    expect(elapsedMs).toBeLessThan(16_000);
  });
});
