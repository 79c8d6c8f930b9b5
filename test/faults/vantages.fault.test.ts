// Vantages that die or freeze (README "Probing from several vantages"): three worker processes,
// vantages a, b and c probing from 127.0.0.2, .3 and .4, and an API asking all three of each port
// with a quorum of 2. A vantage that does not answer is no evidence: the check answers from the
// others by its deadline, or 503s when fewer than the quorum finished; never a guessed state.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { vantageKeys } from '@port-checker/shared';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { scrape, valueOf } from '../support/metrics.js';
import type { AppProcess } from '../support/processes.js';
import { checkPorts, startApiProcess, startVantage, VANTAGES } from '../support/vantages.js';
import { appEnv } from '../support/service.js';

// Short, so that a check waiting out a silent vantage ends soon: probes end by 2.5 s, answers by 3 s.
const DEADLINE_MS = 3000;
/** Past the deadline, for the answer's trip and a loaded machine. */
const ANSWER_MARGIN_MS = 1500;

let redis: Redis;
let open: Ports;
let closed: number;
let queue: string;
let url: string;
let metricsUrl: string;
let workers: Record<'a' | 'b' | 'c', AppProcess>;
const apps: AppProcess[] = [];

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  open = await openPorts(1);
  [closed] = (await closedPorts(1)) as [number];
});
beforeEach(async () => {
  queue = `vantage-faults-${randomUUID()}`;
  const env = appEnv(inject('redisUrl'), queue, { PORT_CHECK_DEADLINE: String(DEADLINE_MS / 1000), PORT_CHECK_TIMEOUT: '1' });
  const [a, b, c] = await Promise.all(VANTAGES.map((vantage) => startVantage(vantage, env)));
  workers = { a: a!, b: b!, c: c! };
  const api = await startApiProcess({ ...env, PORT_CHECK_VANTAGES: '3' });
  apps.push(a!, b!, c!, api.api);
  url = api.url;
  metricsUrl = api.metricsUrl;
}, 60_000);
afterEach(async () => {
  for (const app of apps) app.child.kill('SIGCONT');
  await Promise.all(apps.splice(0).map((app) => app.stop('SIGKILL')));
});
afterAll(async () => {
  await redis?.quit();
  await open?.close();
});

/**
 * Resolves once the API counts `count` vantages alive (its gauge, read from the list checks use): a
 * killed vantage drops out when its heartbeat expires, a stopped one at once; the API reads the list
 * at most once a second.
 */
async function aliveAtApi(count: number): Promise<void> {
  await expect.poll(async () => valueOf(await scrape(metricsUrl), 'port_checker_vantages_alive'), { timeout: 10_000, interval: 200 }).toBe(count);
}

const statusOf = (vantages: Record<string, { status: string }> = {}) =>
  Object.fromEntries(Object.entries(vantages).map(([vantage, { status }]) => [vantage, status]));

describe('vantages that do not answer', () => {
  it('one killed: its probe counts for nothing, the other two answer by the deadline; once its heartbeat is gone it is not asked', async () => {
    const port = open.ports[0]!;
    await aliveAtApi(3);
    expect(valueOf(await scrape(metricsUrl), 'port_checker_vantage_quorum')).toBe(2);
    await workers.c.stop('SIGKILL');

    // Still alive by its last heartbeat (3 s): picked, and never answers.
    const during = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [port, closed] });
    expect(during.status).toBe(200);
    expect(during.body.results[String(port)]).toMatchObject({ state: 'open', accessible: true, agreement: { answered: 2, agree: 2, required: 2 } });
    expect(during.body.results[String(closed)]).toMatchObject({ state: 'closed', accessible: false, agreement: { answered: 2, agree: 2, required: 2 } });
    expect(statusOf(during.body.results[String(port)]!.vantages)).toEqual({ a: 'finished', b: 'finished', c: 'timed_out' });
    expect(during.elapsedMs).toBeLessThan(DEADLINE_MS + ANSWER_MARGIN_MS);

    await aliveAtApi(2);
    const after = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [port] });
    expect(after.status).toBe(200);
    expect(statusOf(after.body.results[String(port)]!.vantages)).toEqual({ a: 'finished', b: 'finished' });
    expect(after.body.results[String(port)]!.agreement).toEqual({ asked: 2, answered: 2, agree: 2, required: 2 });
  });

  it('two killed: fewer than the quorum finished, so 503 CHECK_FAILED, never a state; once gone, 503 SERVICE_UNAVAILABLE at once', async () => {
    await Promise.all([workers.b.stop('SIGKILL'), workers.c.stop('SIGKILL')]);

    const during = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [closed] });
    expect(during.status).toBe(503);
    expect(during.body.detail.code).toBe('CHECK_FAILED');
    expect(during.body.detail.message).toMatch(/1 of the 3 vantages asked finished probing port \d+, 2 are needed/);
    expect(during.headers.get('retry-after')).not.toBeNull();
    expect(during.elapsedMs).toBeLessThan(DEADLINE_MS + ANSWER_MARGIN_MS);

    await aliveAtApi(1);
    const after = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [closed] });
    expect(after.status).toBe(503);
    expect(after.body.detail.code).toBe('SERVICE_UNAVAILABLE');
    expect(after.body.detail.message).toMatch(/needs 2 to answer, but only 1 is alive/);
    expect(after.headers.get('retry-after')).not.toBeNull();
    // Turned away before any job: the one live vantage's queue got none of it.
    expect(after.elapsedMs).toBeLessThan(DEADLINE_MS);
    expect(await redis.exists(`bull:${queue}-vantage-a:${after.headers.get('x-request-id')}-${closed}-a`)).toBe(0);
  });

  it('one frozen (SIGSTOP): it holds nothing up past the deadline, and is reported timed_out', async () => {
    const port = open.ports[0]!;
    workers.a.child.kill('SIGSTOP');

    const { status, body, elapsedMs } = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [port] });
    expect(status).toBe(200);
    expect(body.results[String(port)]).toMatchObject({ state: 'open', accessible: true, agreement: { answered: 2, agree: 2, required: 2 } });
    expect(statusOf(body.results[String(port)]!.vantages)).toEqual({ a: 'timed_out', b: 'finished', c: 'finished' });
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + ANSWER_MARGIN_MS);
  });

  it('one stopped (SIGTERM): it takes itself off at once, so the next check asks the other two without waiting', async () => {
    await workers.b.stop('SIGTERM');
    expect(await redis.exists(vantageKeys(queue).heartbeat('b'))).toBe(0);
    await aliveAtApi(2);

    const { status, body, elapsedMs } = await checkPorts(url, { provider_ip: '127.0.0.1', ports: [closed] });
    expect(status).toBe(200);
    expect(statusOf(body.results[String(closed)]!.vantages)).toEqual({ a: 'finished', c: 'finished' });
    // Answered by the two replies, not at the deadline that a silent vantage would cost.
    expect(elapsedMs).toBeLessThan(DEADLINE_MS / 2);
  });
});
