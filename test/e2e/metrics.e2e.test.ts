import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../../apps/worker/src/service.js';
import { WORKERS_PER_PROCESS } from '../../apps/worker/src/probe.worker.js';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { scrape, valueOf, type Sample } from '../support/metrics.js';
import { readRepoFile } from '../support/repo.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
let worker: RunningWorker;
let open: Ports;
beforeAll(async () => {
  service = await startService({ workers: 0 });
  worker = await service.startWorkerService();
  open = await openPorts(2);
});
afterAll(async () => {
  await service?.stop();
  await open?.close();
});

const apiMetrics = (): Promise<Sample[]> => scrape(service.api.metricsUrl);
const workerMetrics = (): Promise<Sample[]> => scrape(worker.metricsUrl);

/** No label value may name a target or a port: each would make a series of its own. */
function expectNoTargetsInLabels(samples: Sample[], ports: number[]): void {
  const values = samples.flatMap((s) => Object.values(s.labels));
  expect(values.filter((v) => v.includes('127.0.0.1') || ports.some((p) => v.includes(String(p))))).toEqual([]);
}

describe('the API at GET /metrics', () => {
  it('serves the Prometheus text format with the process metrics', async () => {
    const response = await fetch(service.api.metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = await apiMetrics();
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts requests, outcomes, ports by state and check durations after a check', async () => {
    const [closed] = await closedPorts(1);
    const before = await apiMetrics();
    const http = { route: '/check-ports', method: 'POST', status: '200' };

    const ports = [...open.ports, closed!];
    expect((await service.check({ provider_ip: '127.0.0.1', ports })).status).toBe(200);

    const after = await apiMetrics();
    const moved = (name: string, labels: Record<string, string> = {}): number =>
      (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    expect(moved('port_checker_http_requests_total', http)).toBe(1);
    expect(moved('port_checker_http_request_duration_seconds_count', http)).toBe(1);
    expect(moved('port_checker_check_requests_total', { outcome: 'ok' })).toBe(1);
    expect(moved('port_checker_check_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(moved('port_checker_ports_checked_total', { state: 'open' })).toBe(2);
    expect(moved('port_checker_ports_checked_total', { state: 'closed' })).toBe(1);
    expect(valueOf(after, 'port_checker_ports_checked_total', { state: 'filtered' })).toBe(0);
    expectNoTargetsInLabels(after, ports);
  });

  it('counts refused checks by error code, under the route template', async () => {
    const before = await apiMetrics();
    await service.check({ provider_ip: '127.0.0.1', ports: [70000] });
    await service.check('{"ports": [1');
    const after = await apiMetrics();
    const moved = (name: string, labels: Record<string, string>): number =>
      (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    expect(moved('port_checker_check_requests_total', { outcome: 'invalid_port' })).toBe(1);
    expect(moved('port_checker_check_requests_total', { outcome: 'invalid_request' })).toBe(1);
    expect(moved('port_checker_http_requests_total', { route: '/check-ports', status: '400' })).toBe(2);
  });

  it('labels unknown paths as unmatched rather than by their path', async () => {
    await fetch(`${service.url}/no/such/path/12345`);
    const samples = await apiMetrics();
    expect(valueOf(samples, 'port_checker_http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThan(0);
    expect(samples.some((s) => s.labels.route?.includes('12345'))).toBe(false);
  });

  it('reads queue depth, connected workers and whether Redis answers when scraped', async () => {
    const samples = await apiMetrics();
    expect(valueOf(samples, 'port_checker_redis_up')).toBe(1);
    for (const state of ['waiting', 'active', 'delayed']) {
      expect(valueOf(samples, 'port_checker_queue_jobs', { state })).toBe(0);
    }
    // Read at most once a second: a scrape just after the worker started may still say 0.
    await expect.poll(async () => valueOf(await apiMetrics(), 'port_checker_workers'), { timeout: 3000 }).toBe(WORKERS_PER_PROCESS);
    expect(valueOf(samples, 'port_checker_rate_limited_requests_total', { limit: 'client' })).toBe(0);
  });

  it('shows waiting jobs while no worker takes them', async () => {
    // A deadline long enough for a scrape to see the jobs: a failed check's waiting jobs are then removed.
    const idle = await startService({ workers: 0, env: { PORT_CHECK_DEADLINE: '3' } });
    try {
      const answer = idle.check({ provider_ip: '127.0.0.1', ports: open.ports });
      await expect
        // Read from Redis at most once a second.
        .poll(async () => valueOf(await scrape(idle.api.metricsUrl), 'port_checker_queue_jobs', { state: 'waiting' }), { timeout: 5000 })
        .toBe(2);
      expect((await answer).status).toBe(503);
    } finally {
      await idle.stop();
    }
  });
});

describe('both apps', () => {
  it('name their version in port_checker_build_info, and no two metric families share a name', async () => {
    const { version } = JSON.parse(readRepoFile('packages/shared/package.json')) as { version: string };
    for (const url of [service.api.metricsUrl, worker.metricsUrl]) {
      expect(valueOf(await scrape(url), 'port_checker_build_info', { version })).toBe(1);
      // OpenMetrics drops _total from a counter's family name: it must not collide with another metric's.
      const text = await (await fetch(url)).text();
      const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => (type === 'counter' ? name!.replace(/_total$/, '') : name!));
      expect(families.length).toBe(new Set(families).size);
    }
  });
});

describe("a worker's GET /metrics", () => {
  it('counts probes by state, attempts, durations, and nothing in flight once done', async () => {
    const [closed] = await closedPorts(1);
    const before = await workerMetrics();

    await service.check({ provider_ip: '127.0.0.1', ports: [open.ports[0], closed] });

    const after = await workerMetrics();
    const moved = (name: string, labels: Record<string, string> = {}): number =>
      (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    expect(moved('port_checker_probes_total', { state: 'open' })).toBe(1);
    expect(moved('port_checker_probes_total', { state: 'closed' })).toBe(1);
    expect(moved('port_checker_probe_attempts_total', { state: 'open' })).toBe(1);
    expect(moved('port_checker_probe_duration_seconds_count', { state: 'closed' })).toBe(1);
    expect(moved('port_checker_attempts_per_probe_count')).toBe(2);
    expect(moved('port_checker_attempts_per_probe_bucket', { le: '1' })).toBe(2);
    expect(valueOf(after, 'port_checker_probes_in_flight')).toBe(0);
    expect(valueOf(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expectNoTargetsInLabels(after, [open.ports[0]!, closed!]);
  });

  it('counts jobs dropped because their deadline had passed', async () => {
    const late = await startService({ workers: 0 });
    try {
      await late.addJob(open.ports[0]!, Date.now()); // left by an API that died mid-check, due now
      const lateWorker = await late.startWorkerService();
      await Promise.race(lateWorker.workers.map((worker) => once(worker, 'failed')));
      const samples = await scrape(lateWorker.metricsUrl);
      expect(valueOf(samples, 'port_checker_jobs_dropped_total', { reason: 'deadline' })).toBe(1);
      expect(valueOf(samples, 'port_checker_probes_total', { state: 'open' })).toBe(0);
    } finally {
      await late.stop();
    }
  });

  it('answers anything but GET /metrics with a JSON 404', async () => {
    const response = await fetch(worker.metricsUrl.replace('/metrics', '/nope'));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: { code: 'NOT_FOUND', message: expect.any(String) } });
  });
});
