import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectRedis, loadConfig, type RedisTarget } from '@port-checker/shared';
import { startSentinelSet, type SentinelSet } from '../support/sentinel.js';

// What a connection does when the server under it turns replica without Sentinel killing its clients
// (an operator's REPLICAOF, a managed service's failover): a master, a replica, three sentinels.
let set: SentinelSet;
let target: RedisTarget;

beforeAll(async () => {
  set = await startSentinelSet();
  target = loadConfig(set.env).redis;
}, 60_000);
afterAll(async () => {
  await set?.stop();
});

describe('a connection through the sentinels', () => {
  it.each(['failFast', 'patient'] as const)(
    'a %s connection left on a master demoted by hand (REPLICAOF: no client killed, no +switch-master heard) reconnects on READONLY to the master the sentinels name',
    async (manner) => {
      await set.settled();
      // Failover detection off: this connection learns of the failover only from the old master's refusals.
      const client = connectRedis(target, manner, { failoverDetector: false });
      client.on('error', () => {});
      try {
        if (client.status !== 'ready') await once(client, 'ready');
        await client.set('readonly-test', 'before');
        const before = await set.masterPort();
        const sentinel = set.sentinels[0]!.connect();
        await sentinel.call('SENTINEL', 'FAILOVER', set.name).finally(() => sentinel.disconnect());
        const after = await set.switched(before);
        // An operator (or a managed service) demotes the old master before Sentinel does: Sentinel would
        // also have killed its clients, REPLICAOF alone does not. Its writes are refused from then on (READONLY).
        const old = set.servers.find((server) => server.port === before)!.connect();
        await old.replicaof('127.0.0.1', after).finally(() => old.disconnect());
        await vi.waitFor(
          async () => {
            // A fail-fast write fails once (READONLY, then refused while reconnecting); a patient one is sent again.
            await client.set('readonly-test', 'after');
          },
          { timeout: 5000, interval: 100 },
        );
        const master = new Redis({ port: after, host: '127.0.0.1' });
        expect(await master.get('readonly-test').finally(() => master.disconnect())).toBe('after');
      } finally {
        client.disconnect();
      }
    },
  );
});
