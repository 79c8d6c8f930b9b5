// The floor the checker works against: a bare BullMQ round trip of no-op jobs, nothing else.
// Run by bench.ts as two processes on a Redis of their own:
//   worker:   one Worker, a no-op processor, the checker's concurrency;
//   producer: one Queue and one QueueEvents; on each message { portsPerRequest, clients, durationMs }
//             runs `clients` loops of addBulk(portsPerRequest no-op jobs) + wait for their completions,
//             the shape of the many-providers load, and sends back the latencies.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { percentile } from './measure.js';

const [role, redisUrl] = process.argv.slice(2) as ['worker' | 'producer', string];
const connection = { url: redisUrl, maxRetriesPerRequest: null };
const QUEUE = 'floor';
const removed = { removeOnComplete: true, removeOnFail: true };

if (role === 'worker') {
  const worker = new Worker(QUEUE, async () => ({ state: 'open' }), { connection, concurrency: 256 });
  await worker.waitUntilReady();
  process.send!({ ready: true });
} else {
  const queue = new Queue(QUEUE, { connection, defaultJobOptions: removed });
  const events = new QueueEvents(QUEUE, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const waiters = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => {
    waiters.get(jobId)?.();
    waiters.delete(jobId);
  });

  async function roundTrip(jobs: number): Promise<void> {
    const id = randomUUID();
    const ids = Array.from({ length: jobs }, (_, i) => `${id}-${i}`);
    const done = Promise.all(ids.map((jobId) => new Promise<void>((resolve) => waiters.set(jobId, resolve))));
    await queue.addBulk(ids.map((jobId) => ({ name: 'noop', data: {}, opts: { jobId } })));
    await done;
  }

  process.on('message', async (message: { portsPerRequest: number; clients: number; durationMs: number }) => {
    const { portsPerRequest, clients, durationMs } = message;
    const latencies: number[] = [];
    const started = performance.now();
    const endAt = started + durationMs;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < endAt) {
          const sent = performance.now();
          await roundTrip(portsPerRequest);
          latencies.push(performance.now() - sent);
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    process.send!({
      requestsPerSecond: latencies.length / elapsedS,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      requests: latencies.length,
      failures: {},
    });
  });
  process.send!({ ready: true });
}
