import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, loadConfig } from '@port-checker/shared';
import { openPorts, type Ports } from '../support/listeners.js';
import { spawnApp } from '../support/processes.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { startService, type Service } from '../support/service.js';

// Three masters of this file's own. The queue's keys and the budgets' must share one slot: the
// budgets' script and BullMQ's own touch several keys at once, which a Cluster allows within one slot only.
let cluster: TestCluster;
let service: Service | undefined;
let open: Ports;

beforeAll(async () => {
  cluster = await startTestCluster();
  open = await openPorts(2);
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await cluster?.stop();
  await open?.close();
});

describe('Redis Cluster', () => {
  it('with the queue name in braces: checks answered end to end, budgets charged and counted in the queue slot', async () => {
    const queueName = `{test-${randomUUID()}}`;
    service = await startService({
      redisEnv: cluster.env,
      env: { PORT_CHECKER_QUEUE: queueName, PORT_CHECKER_RATE_LIMIT_PORTS: '3', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '128' },
    });

    const first = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    expect(first.status).toBe(200);
    expect(Object.values(first.body.results).map((result) => result.state)).toEqual(['open', 'open']);
    // The budget of 3 ports holds 1 more: the charge (several keys in one script) ran and counted.
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    const refused = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    expect(refused.status).toBe(429);

    const redis = connectRedis(service.config.redis, 'patient');
    try {
      const slot = await redis.cluster('KEYSLOT', `bull:${queueName}:meta`);
      expect(await redis.cluster('KEYSLOT', `port-checker:${queueName}:budget:client:127.0.0.1`)).toBe(slot);
      expect(await redis.get(`port-checker:${queueName}:budget:client:127.0.0.1`)).toBe('2');
    } finally {
      redis.disconnect();
    }
    expect((await fetch(`${service.url}/ready`)).status).toBe(200);
  });

  it('with a queue name out of braces: the API refuses to start, naming the fix', async () => {
    const env = { ...cluster.env, PORT_CHECKER_QUEUE: 'port-checks', PORT_CHECKER_PORT: '0', PORT_CHECKER_ADMIN_PORT: '0' };
    expect(() => loadConfig(env)).toThrow(/PORT_CHECKER_QUEUE=\{port-checks\}/);

    const api = spawnApp('api', env);
    let stderr = '';
    api.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(api.child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain('REDIS_CLUSTER_NODES needs a queue name in braces');
    expect(stderr).toContain('set PORT_CHECKER_QUEUE={port-checks}');
  });
});
