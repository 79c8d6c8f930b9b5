import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { openPorts } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

describe('the request deadline', () => {
  it('answers 503 CHECK_FAILED in time when no worker takes the jobs', async () => {
    service = await startService({ env: { PORT_CHECK_DEADLINE: '1' }, workers: 0 });

    const { status, body, headers, elapsedMs } = await service.check({ provider_ip: '127.0.0.1', ports: [7466, 50800] });

    expect(status).toBe(503);
    expect(body.detail.code).toBe('CHECK_FAILED');
    expect(headers.get('retry-after')).toMatch(/^\d+$/);
    // The bound is the behaviour: answered at the configured 1 s deadline, not earlier, and not by
    // the default 7 s one (nor never). 4 s leaves 3 s of slack for a loaded machine.
    expect(elapsedMs).toBeGreaterThanOrEqual(990);
    expect(elapsedMs).toBeLessThan(4000);
  });

  it('has a worker drop a job whose deadline has passed, without probing', async () => {
    service = await startService({ workers: 0 });
    const open = await openPorts(1);
    try {
      // Due now: too late for one useful attempt by the time a worker takes it.
      await service.addJob(open.ports[0]!, Date.now());
      let attempts = 0;
      const worker = service.startWorker({ onAttempt: () => (attempts += 1) });
      const [, error] = (await once(worker, 'failed')) as [Job, Error];
      expect(error.message).toMatch(/deadline passed/);
      expect(attempts).toBe(0);
    } finally {
      await open.close();
    }
  });
});
