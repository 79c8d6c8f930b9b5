import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { startSentinelSet, type SentinelSet } from '../support/sentinel.js';
import { startService, type Service } from '../support/service.js';
import { expectOnlyTruthOr503, steadyChecks } from '../support/steady-checks.js';

// A master frozen (SIGSTOP) long enough for Sentinel to promote the replica, then woken: for a few
// seconds it still believes it is master and takes writes, until Sentinel demotes it and it resyncs
// from the new master, dropping them. A client still attached to it would write into that void.
let set: SentinelSet;
let service: Service;
let open: Ports;
const deadlineMs = 3000;

beforeAll(async () => {
  set = await startSentinelSet();
  open = await openPorts(1);
  service = await startService({
    redisEnv: set.env,
    env: {
      PORT_CHECK_DEADLINE: String(deadlineMs / 1000),
      PORT_CHECK_TIMEOUT: '1',
      PORT_CHECKER_RATE_LIMIT_PORTS: '100000',
      PORT_CHECKER_RATE_LIMIT_WINDOW: '600',
      PORT_CHECKER_TRUST_PROXY: 'loopback',
    },
  });
}, 60_000);
afterAll(async () => {
  // Awake, should the test have failed while the master was frozen: the service's stop waits for Redis.
  for (const server of set?.servers ?? []) set.signal(server, 'SIGCONT');
  await service?.stop();
  await set?.stop();
  await open?.close();
});

describe('a Redis master frozen, replaced, then woken', () => {
  it('costs only 503s, is left for the new master by API and worker, and no answered check is charged into the void', async ({ annotate }) => {
    const old = await set.master();
    const load = steadyChecks(service, open.ports[0]!, { client: '127.0.0.2' });
    await load.succeeded(performance.now());

    // Frozen: connections stay open, nothing answers.
    set.signal(old, 'SIGSTOP');
    const frozen = performance.now();
    await set.switched(old.port);
    const recovered = await load.succeeded(frozen);

    // Woken: from now on checks are sent as another client, whose budget counter tells where their charges went.
    load.sendAs('127.0.0.3');
    const woken = performance.now();
    set.signal(old, 'SIGCONT');
    // Until Sentinel has demoted the old master and it has resynced: the window in which it takes writes.
    const watch = old.connect();
    await vi.waitFor(
      async () => {
        const replication = await watch.info('replication');
        expect(replication).toMatch(/role:slave[^]*master_link_status:up/);
      },
      { timeout: 20_000, interval: 100 },
    );
    watch.disconnect();
    const demoted = performance.now();
    // And a little past it, with a check from the service answered after.
    await load.succeeded(demoted);
    const answers = await load.stop();

    expectOnlyTruthOr503(answers, deadlineMs);
    expect(recovered.answeredAt - frozen).toBeLessThan(8000);
    const afterWake = answers.filter((a) => a.client === '127.0.0.3');
    const answered = afterWake.filter((a) => a.status === 200).length;
    // Every 200 after the wake was charged on the new master: a charge the old one took would be gone.
    const redis = new Redis({ sentinels: set.sentinels.map(({ port }) => ({ host: '127.0.0.1', port })), name: set.name });
    const charged = Number(await redis.get(`port-checker:${service.config.queueName}:budget:client:127.0.0.3`).finally(() => redis.disconnect()));
    expect(answered).toBeGreaterThan(0);
    expect(charged).toBeGreaterThanOrEqual(answered);
    expect(charged).toBeLessThanOrEqual(afterWake.length);
    await annotate(
      `frozen master: ${answers.length} checks, ${answers.filter((a) => a.status !== 200).length} answered 503; checks succeed ` +
        `${Math.round(recovered.answeredAt - frozen)} ms after the freeze; woken for ${Math.round(demoted - woken)} ms before it ` +
        `was demoted and resynced; after the wake ${answered} checks answered 200, ${charged} ports charged on the new master`,
    );
  });
});
