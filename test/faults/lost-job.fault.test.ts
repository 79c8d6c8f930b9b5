import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { redisUrlOf, startService, type CheckAnswer, type Service } from '../support/service.js';

let service: Service | undefined;
let open: Ports | undefined;
afterEach(async () => {
  await service?.stop();
  await open?.close();
  service = open = undefined;
});

describe('a job that Redis lost', () => {
  it('blocks its host:port for one deadline at most, while checks of it keep coming', async () => {
    const deadlineMs = 1500;
    service = await startService({ workers: 0, env: { PORT_CHECK_DEADLINE: String(deadlineMs / 1000) } });
    open = await openPorts(1);
    const body = { provider_ip: '127.0.0.1', ports: open.ports };
    const started = performance.now();
    const first = service.check(body);
    // The job is lost before any worker takes it, as a Redis restarted without persistence loses it.
    const queue = new Queue(service.config.queueName, { connection: { url: redisUrlOf(service.config) } });
    try {
      await expect.poll(() => queue.getJobs(['wait'])).toHaveLength(1);
      const [lost] = await queue.getJobs(['wait']);
      await queue.remove(lost!.id!);
    } finally {
      await queue.close();
    }
    service.startWorker();

    // Checks of the same port keep coming, each while the one before still waits (bounded: 6 s).
    const answers: Array<Promise<CheckAnswer & { sentMs: number }>> = [];
    for (let i = 0; i < 24 && performance.now() - started < 6000; i += 1) {
      const sentMs = performance.now() - started;
      answers.push(service.check(body).then((answer) => ({ ...answer, sentMs })));
      await sleep(250);
    }

    expect((await first).status).toBe(503);
    const settled = await Promise.all(answers);
    const firstOk = settled.find((answer) => answer.status === 200);
    expect(firstOk, settled.map((answer) => `${Math.round(answer.sentMs)} ms: ${answer.status}`).join(', ')).toBeDefined();
    // The first check's look-up (at 1.375 s) frees the port: a check sent soon after adds a job afresh. The bound
    // leaves a whole deadline of margin for a loaded machine; without the fix no check of the 6 s gets a 200.
    expect(firstOk!.sentMs).toBeLessThan(2 * deadlineMs);
    expect(firstOk!.body.results[String(open.ports[0])]).toMatchObject({ accessible: true, state: 'open' });
  });
});
