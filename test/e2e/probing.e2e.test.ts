import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts, filteredPorts, openPortAt, type Ports } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service | undefined;
let listeners: Ports[] = [];
afterEach(async () => {
  await service?.stop();
  await Promise.all(listeners.map((l) => l.close()));
  service = undefined;
  listeners = [];
});

const fast = { PORT_CHECK_TIMEOUT: '0.3', PORT_CHECK_RETRY_DELAY: '0.2', PORT_CHECK_RETRIES: '2' };
/** Every attempt times out, with the delays between: 2 × 0.3 + 0.2 s. */
const worstCaseMs = 800;

describe('probing through API, Redis and worker', () => {
  it('honours retries, timeout and delay for a port that never answers', async () => {
    service = await startService({ env: fast });
    const filtered = await filteredPorts(1);
    listeners.push(filtered);

    const { body, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });

    expect(body.results[filtered.ports[0]!]).toMatchObject({ state: 'filtered', attempts: 2, error: 'Connection timed out' });
    // Both attempts waited their timeout and the delay between (a lower bound: load only adds).
    // Attempts not limited to the timeout would be cut by the 7 s deadline: one attempt, or a 503.
    expect(elapsedMs).toBeGreaterThanOrEqual(worstCaseMs - 10);
  });

  it('takes a refusal as final by default', async () => {
    service = await startService({ env: { ...fast, PORT_CHECK_RETRIES: '3' } });
    const [closed] = await closedPorts(1);
    const { body } = await service.check({ provider_ip: '127.0.0.1', ports: [closed] });
    expect(body.results[closed!]).toMatchObject({ state: 'closed', attempts: 1 });
  });

  it('with PORT_CHECK_RETRY_REFUSED, finds a port that starts listening after the first attempt', async () => {
    service = await startService({ env: { ...fast, PORT_CHECK_RETRY_REFUSED: 'true', PORT_CHECK_RETRIES: '3' }, workers: 0 });
    const [port] = await closedPorts(1);
    service.startWorker({
      onAttempt: (result, attempt) => {
        if (attempt === 1 && result.state === 'closed') void openPortAt(port!).then((l) => listeners.push(l));
      },
    });

    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: [port] });

    expect(status).toBe(200);
    expect(body.results[port!]).toMatchObject({ accessible: true, state: 'open', attempts: 2 });
  });

  it('probes the ports of one request concurrently: 100 filtered ports at once', async () => {
    service = await startService({ env: fast, workers: 0 });
    let probing = 0;
    let mostAtOnce = 0;
    service.startWorker({
      onProbeStart: () => (mostAtOnce = Math.max(mostAtOnce, ++probing)),
      onProbeEnd: () => void (probing -= 1),
    });
    const filtered = await filteredPorts(100);
    listeners.push(filtered);

    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });

    // Within the 7 s deadline (else 503): serial probing would take 100 × 0.8 s.
    expect(status).toBe(200);
    expect(Object.values(body.results).every((r) => r.state === 'filtered' && r.attempts === 2)).toBe(true);
    expect(Object.keys(body.results)).toHaveLength(100);
    // Counted, not timed: the probes overlapped. Each lasts 0.8 s, so all 100 are under way at once
    // unless the worker takes more than that to pick them up; more than half is the bar, a serial
    // or narrowly limited worker would have 1 or a few.
    expect(mostAtOnce).toBeGreaterThan(50);
  });

  it("shares one request's jobs between two workers", async () => {
    service = await startService({ env: { ...fast, PORT_CHECK_RETRIES: '1', PORT_CHECK_WORKER_CONCURRENCY: '2' }, workers: 0 });
    const filtered = await filteredPorts(4);
    listeners.push(filtered);
    const done = [0, 0];
    const workers = [service.startWorker(), service.startWorker()];
    workers.forEach((worker, i) => worker.on('completed', () => (done[i]! += 1)));
    // Both must be taking jobs before the request comes, or the first could take them all.
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));

    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });

    expect(status).toBe(200);
    expect(Object.keys(body.results)).toHaveLength(4);
    // Each worker holds at most two probes at once, and every probe takes the full timeout. A worker's own
    // 'completed' event may come after the API has read the completion from Redis and answered.
    await expect.poll(() => done).toEqual([2, 2]);
  });

  it('shares a probe already in flight: ten concurrent checks of one port cost one job', async () => {
    service = await startService({ env: fast });
    const filtered = await filteredPorts(1);
    listeners.push(filtered);

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => service!.check({ provider_ip: '127.0.0.1', ports: filtered.ports })),
    );

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    for (const { body } of answers) expect(body.results[filtered.ports[0]!]).toMatchObject({ state: 'filtered', attempts: 2 });
    expect(await service.jobCount()).toBe(1);
    // Once it has finished, the next check probes afresh.
    await service.check({ provider_ip: '127.0.0.1', ports: filtered.ports });
    expect(await service.jobCount()).toBe(2);
  });
});
