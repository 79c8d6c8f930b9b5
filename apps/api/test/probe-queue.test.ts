import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, inject } from 'vitest';
import { checkTimeline, loadConfig, PROBE_JOB_NAME, ProbeOutcome, replyChannel, type ProbeJob } from '@port-checker/shared';
import { startProbeWorker } from '../../worker/src/probe.worker.js';
import { captureLogs } from '../../../test/support/log-capture.js';
import { openPorts } from '../../../test/support/listeners.js';
import { ProbeQueue } from '../src/queue/probe-queue.js';
import { ProbeQueues } from '../src/queue/queues.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

describe('ProbeQueue', () => {
  it('finds results whose replies never reached it, before the deadline', async () => {
    const redisUrl = inject('redisUrl');
    const config = loadConfig({ REDIS_URL: redisUrl, PORT_CHECKER_QUEUE: `test-${randomUUID()}`, PORT_CHECKER_ALLOW_LOCAL_IPS: 'true' });
    const redis = new Redis(redisUrl);
    const queue = new Queue(config.queueName, { connection: redis });
    // A replies connection subscribed to nothing: every reply is lost.
    const deaf = new Redis(redisUrl);
    const worker: Worker = startProbeWorker(config, captureLogs('worker').logger);
    const open = await openPorts(2);
    cleanups.push(() => redis.quit(), () => queue.obliterate({ force: true }).then(() => queue.close()), () => deaf.quit(), () => worker.close(), () => open.close());
    const probes = new ProbeQueue(new ProbeQueues(queue, redis, { deadlineMs: 4000, eventsMaxLen: 1000 }), redis, deaf, 'deaf', captureLogs('api').logger);

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
    // Read from the jobs at the timeline's look-up (no reply told of them earlier). That it was
    // before the answer was due needs no clock: at answerBy, run() gives undefined for a result
    // still missing, and both are there above.
    expect(elapsed).toBeGreaterThanOrEqual(timeline.lookUpAt - started);
    expect(probes.pending).toBe(0);
  });
});

describe('ProbeQueue replies', () => {
  it('reads the results of the replies it missed while its replies connection was down as soon as it is back', async () => {
    const redisUrl = inject('redisUrl');
    const config = loadConfig({ REDIS_URL: redisUrl, PORT_CHECKER_QUEUE: `test-${randomUUID()}`, PORT_CHECKER_ALLOW_LOCAL_IPS: 'true' });
    const redis = new Redis(redisUrl);
    const queue = new Queue(config.queueName, { connection: redis });
    const replies = new Redis(redisUrl);
    await replies.subscribe(replyChannel(config.queueName, 'this-process'));
    const open = await openPorts(1);
    cleanups.push(() => redis.quit(), () => queue.obliterate({ force: true }).then(() => queue.close()), () => open.close());
    cleanups.push(async () => replies.status !== 'end' && replies.disconnect());
    const probes = new ProbeQueue(new ProbeQueues(queue, redis, { deadlineMs: 7000, eventsMaxLen: 1000 }), redis, replies, 'this-process', captureLogs('api').logger);

    const timeline = checkTimeline(7000);
    const data: ProbeJob = { host: '127.0.0.1', port: open.ports[0]!, deadline: timeline.probesEndBy, ...config.probe };
    const jobId = `${randomUUID()}-${open.ports[0]}`;
    const result = probes.run([{ key: 'k', name: PROBE_JOB_NAME, data, jobId }], timeline, ProbeOutcome).then((finished) => ({ finished, at: Date.now() }));

    // The job is in Redis; the replies connection goes down; a worker probes and replies to nobody.
    await until(async () => (await queue.getJobState(jobId)) === 'waiting');
    replies.disconnect(false);
    const worker: Worker = startProbeWorker(config, captureLogs('worker').logger);
    cleanups.push(() => worker.close());
    await until(async () => (await queue.getJobState(jobId)) === 'completed');
    await replies.connect();

    const { finished, at } = await result;
    expect(finished).toEqual([{ ok: true, outcome: expect.objectContaining({ state: 'open' }) }]);
    // Without the look-up on reconnect, the result would come from the one at lookUpAt.
    expect(at).toBeLessThan(timeline.lookUpAt);
  });
});

/** Resolves once `condition` holds, asking Redis every 20 ms (the job's state has no event of its own here). */
async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const endAt = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > endAt) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
