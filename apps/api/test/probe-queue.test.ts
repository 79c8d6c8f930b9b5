import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, inject } from 'vitest';
import { checkTimeline, loadConfig, PROBE_JOB_NAME, ProbeOutcome, type ProbeJob } from '@port-checker/shared';
import { startProbeWorker } from '../../worker/src/probe.worker.js';
import { captureLogs } from '../../../test/support/log-capture.js';
import { openPorts } from '../../../test/support/listeners.js';
import { ProbeQueue } from '../src/queue/probe-queue.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

describe('ProbeQueue', () => {
  it('finds results whose completion events it never saw, before the deadline', async () => {
    const redisUrl = inject('redisUrl');
    const config = loadConfig({ REDIS_URL: redisUrl, PORT_CHECKER_QUEUE: `test-${randomUUID()}`, PORT_CHECKER_ALLOW_LOCAL_IPS: 'true' });
    const redis = new Redis(redisUrl);
    const queue = new Queue(config.queueName, { connection: redis });
    // A QueueEvents that never reads: every completion notice is lost.
    const deaf = new QueueEvents(config.queueName, { connection: { url: redisUrl }, autorun: false });
    const worker: Worker = startProbeWorker(config, captureLogs('worker').logger);
    const open = await openPorts(2);
    cleanups.push(() => redis.quit(), () => queue.obliterate({ force: true }).then(() => queue.close()), () => deaf.close(), () => worker.close(), () => open.close());
    const probes = new ProbeQueue(queue, redis, deaf);

    const started = Date.now();
    const timeline = checkTimeline(4000, started);
    const wanted = open.ports.map((port) => {
      const data: ProbeJob = { host: '127.0.0.1', port, deadline: timeline.probesEndBy, ...config.probe };
      return { key: String(port), name: PROBE_JOB_NAME, data, jobId: `${randomUUID()}-${port}` };
    });
    const finished = await probes.run(wanted, timeline, ProbeOutcome);
    const elapsed = Date.now() - started;

    expect(finished).toEqual([
      { ok: true, outcome: expect.objectContaining({ state: 'open', attempts: 1 }) },
      { ok: true, outcome: expect.objectContaining({ state: 'open', attempts: 1 }) },
    ]);
    // Read from the jobs at the timeline's look-up (no event told of them earlier). That it was
    // before the answer was due needs no clock: at answerBy, run() gives undefined for a result
    // still missing, and both are there above.
    expect(elapsed).toBeGreaterThanOrEqual(timeline.lookUpAt - started);
    expect(probes.pending).toBe(0);
  });
});
