// Results go straight to the API process that waits (probe-reply.ts): with two API processes on
// one Redis, each hears its own results only, and nothing reads the queue's event stream.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { startService, type Service } from '../support/service.js';
import type { RunningApi } from '../../apps/api/src/server.js';

// A Redis of this file's own: its command counts are this file's alone.
let redis: RedisServer;
let client: Redis;
let service: Service;
let replica: RunningApi;
let open: Ports;
let closed: number[];

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  service = await startService({ redisUrl: redis.url });
  replica = await service.startReplica();
  open = await openPorts(6);
  closed = await closedPorts(6);
});
afterAll(async () => {
  await service?.stop();
  await client?.quit();
  await redis?.stop();
  await open?.close();
});

/** Calls of `command` Redis has served since its last RESETSTAT. */
async function calls(command: string): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

const states = (answer: Awaited<ReturnType<Service['check']>>) => Object.values(answer.body.results ?? {}).map((result) => result.state);

describe('results with two API processes', () => {
  it('reach the process that asked, one reply per job, and nobody reads the event stream', async () => {
    await client.config('RESETSTAT');
    // At once, through both: one process asks about open ports, the other about closed ones, one
    // port per request, as today's provider asks.
    const answers = await Promise.all([
      ...open.ports.map((port) => service.check({ provider_ip: '127.0.0.1', ports: [port] })),
      ...closed.map((port) => service.check({ provider_ip: '127.0.0.1', ports: [port] }, { url: replica.url })),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
    expect(answers.slice(0, 6).flatMap(states)).toEqual(Array(6).fill('open'));
    expect(answers.slice(6).flatMap(states)).toEqual(Array(6).fill('closed'));
    // One channel per API process, each heard by one connection; one message per job.
    const channels = await client.pubsub('CHANNELS', `bull:${service.config.queueName}:replies:*`);
    expect(channels).toHaveLength(2);
    expect(await client.pubsub('NUMSUB', ...(channels as string[]))).toEqual(channels.flatMap((channel) => [channel, 1]));
    expect(await calls('publish')).toBe(12);
    expect(await calls('xread')).toBe(0);
  });

  it('lets checks in two processes ask about the same port at once: each adds its own job and hears its own result', async () => {
    const port = open.ports[0]!;
    await client.config('RESETSTAT');
    const [first, second] = await Promise.all([
      service.check({ provider_ip: '127.0.0.1', ports: [port] }),
      service.check({ provider_ip: '127.0.0.1', ports: [port] }, { url: replica.url }),
    ]);
    expect([first!.status, second!.status]).toEqual([200, 200]);
    expect([...states(first!), ...states(second!)]).toEqual(['open', 'open']);
    expect(await calls('publish')).toBe(2);
  });

  it('keeps the event stream short, as nothing reads it: 400 jobs leave about 1,000 of their ~1,600 events', async () => {
    const many = await closedPorts(100);
    for (let i = 0; i < 4; i += 1) expect((await service.check({ provider_ip: '127.0.0.1', ports: many })).status).toBe(200);
    expect(service.config.eventsMaxLen).toBe(1000);
    // BullMQ trims with MAXLEN ~: whole nodes of the stream (100 entries each) at a time.
    const length = await client.xlen(`bull:${service.config.queueName}:events`);
    expect(length).toBeGreaterThanOrEqual(1000);
    expect(length).toBeLessThan(1200);
  });
});
