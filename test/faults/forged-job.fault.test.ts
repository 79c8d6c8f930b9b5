import { once } from 'node:events';
import { Queue, type Job, type Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBE_JOB_NAME, type ProbeJob, type ProbeOutcome } from '@port-checker/shared';
import { filteredPorts } from '../support/listeners.js';
import { scrape, valueOf } from '../support/metrics.js';
import { recordingListener, type RecordingListener } from '../support/recording-listener.js';
import { redisUrlOf } from '../support/service.js';
import { servicePerTest } from '../support/service-per-test.js';
import type { RunningWorker } from '../../apps/worker/src/service.js';

// Jobs written straight into Redis, as anyone with access to it could: the API never sees them,
// so only the worker's own checks stand between them and a target. Every target is loopback.
const service = servicePerTest();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((step) => step()));
});

async function enqueue(data: ProbeJob): Promise<void> {
  const queue = new Queue(service.current.config.queueName, { connection: { url: redisUrlOf(service.current.config) } });
  cleanup.push(() => queue.close());
  await queue.add(PROBE_JOB_NAME, data);
}

const job = (host: string, port: number): ProbeJob => ({
  host, port, timeoutMs: 500, maxAttempts: 1, retryDelayMs: 0, retryRefused: false, deadline: Date.now() + 10_000,
});

async function listener(host: '127.0.0.1' | '127.0.0.2' | '::1'): Promise<RecordingListener> {
  const target = await recordingListener(() => {}, host);
  cleanup.push(() => target.close());
  return target;
}

const metric = async (worker: RunningWorker, name: string, labels: Record<string, string>) =>
  valueOf(await scrape(worker.metricsUrl), name, labels);
/** The first of a worker process's BullMQ Workers to emit `event`: any of them may take the job. */
const first = <T>(workers: Worker[], event: 'failed' | 'completed') => Promise.race(workers.map((worker) => once(worker, event))) as Promise<T>;
const failure = (workers: Worker[]) => first<[Job, Error]>(workers, 'failed');

describe("the worker's own target check", () => {
  it('refuses a target in PORT_CHECKER_DENY_CIDRS, local targets allowed or not, without connecting', async () => {
    const { startWorkerService } = await service.start({ env: { PORT_CHECKER_DENY_CIDRS: '127.0.0.2/32' }, workers: 0 });
    const worker = await startWorkerService();
    const target = await listener('127.0.0.2');
    const failed = failure(worker.workers);

    await enqueue(job('127.0.0.2', target.port));

    const [, error] = await failed;
    expect(error).toMatchObject({ name: 'UnrecoverableError', message: 'target 127.0.0.2 refused: denied_target' });
    expect(await metric(worker, 'port_checker_jobs_dropped_total', { reason: 'denied_target' })).toBe(1);
    expect(target.accepted).toBe(0);
  });

  it.each(['127.0.0.1', '::1'] as const)("refuses %s, an address of the worker's own interfaces, without connecting", async (host) => {
    const { startWorker } = await service.start({ workers: 0 });
    const worker = startWorker({}, { allowLocalIps: false });
    const target = await listener(host);
    const failed = failure([worker]);

    await enqueue(job(host, target.port));

    const [, error] = await failed;
    expect(error.message).toBe(`target ${host} refused: own_address`);
    expect(target.accepted).toBe(0);
  });
});

describe("a job's settings", () => {
  it("are cut down to the worker's own maxima, and each cut is counted", async () => {
    const { startWorkerService } = await service.start({
      env: { PORT_CHECK_RETRIES: '2', PORT_CHECK_TIMEOUT: '0.3', PORT_CHECK_RETRY_DELAY: '0.05' },
      workers: 0,
    });
    const worker = await startWorkerService();
    const filtered = await filteredPorts(1);
    cleanup.push(() => filtered.close());
    const completed = first<[Job, ProbeOutcome]>(worker.workers, 'completed');
    const month = 30 * 86_400_000;

    // Uncut, this would hold the worker for 1,000 attempts of 10 minutes each.
    await enqueue({ ...job('127.0.0.1', filtered.ports[0]!), maxAttempts: 1000, timeoutMs: 600_000, retryDelayMs: 60_000, deadline: Date.now() + month });

    const [, outcome] = await completed;
    expect(outcome).toMatchObject({ state: 'filtered', attempts: 2 });
    const clamped = (setting: string) => metric(worker, 'port_checker_job_settings_clamped_total', { setting });
    expect(await Promise.all(['max_attempts', 'timeout', 'retry_delay', 'deadline'].map(clamped))).toEqual([1, 1, 1, 1]);
    expect(service.current.workerLogs.lines).toContainEqual(
      expect.objectContaining({ level: 40, clamped: ['max_attempts', 'timeout', 'retry_delay', 'deadline'] }),
    );
  });

  it('within the maxima are left as they are, and nothing is counted', async () => {
    const { startWorkerService } = await service.start({ env: { PORT_CHECK_RETRIES: '3', PORT_CHECK_TIMEOUT: '0.3' }, workers: 0 });
    const worker = await startWorkerService();
    const filtered = await filteredPorts(1);
    cleanup.push(() => filtered.close());
    const completed = first<[Job, ProbeOutcome]>(worker.workers, 'completed');

    // Within the default 7 s a check may last, as an API writes it.
    await enqueue({ ...job('127.0.0.1', filtered.ports[0]!), maxAttempts: 2, timeoutMs: 100, deadline: Date.now() + 5_000 });

    const [, outcome] = await completed;
    expect(outcome).toMatchObject({ state: 'filtered', attempts: 2 });
    const clamped = (setting: string) => metric(worker, 'port_checker_job_settings_clamped_total', { setting });
    expect(await Promise.all(['max_attempts', 'timeout', 'retry_delay', 'deadline'].map(clamped))).toEqual([0, 0, 0, 0]);
  });
});
