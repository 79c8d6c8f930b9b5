import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closedPorts, filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { BUDGETS_AT_DEFAULTS, BUDGETS_OFF, redisUrlOf, type CheckAnswer, type Service } from '../support/service.js';
import { servicePerTest } from '../support/service-per-test.js';

// Every check in this file probes loopback only. Callers other than 127.0.0.1 are identities
// given in X-Forwarded-For (the API trusts loopback proxies here): no traffic goes to them.
// Each test starts its own service, so every budget starts from zero (keys carry the queue name).
const service = servicePerTest();
let open: Ports;
beforeAll(async () => {
  open = await openPorts(3);
});
afterAll(() => open?.close());

/** Every budget off but those given. */
const budgeted = (env: Record<string, string>, workers = 1): Promise<Service> =>
  service.start({ env: { ...BUDGETS_OFF, PORT_CHECKER_TRUST_PROXY: 'loopback', PORT_CHECKER_RATE_LIMIT_WINDOW: '60', ...env }, workers });

const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });

/**
 * Resolves once a check of `ports` ports from 127.0.0.1 is charged to its ports in flight: a set
 * under server.ts's key prefix (`port-checker:<queue>`) whose members are `<ports>:<id>`. Read-only:
 * retrying a check until one is refused would spend budget, and could get in ahead of the charge.
 */
async function chargedInFlight({ config }: Service, ports: number): Promise<void> {
  const redis = new Redis(redisUrlOf(config));
  try {
    await vi.waitFor(
      async () => expect(await redis.zrange(`port-checker:${config.queueName}:in-flight:127.0.0.1`, 0, -1)).toContainEqual(expect.stringMatching(new RegExp(`^${ports}:`))),
      { timeout: 2500, interval: 20 },
    );
  } finally {
    redis.disconnect();
  }
}
const self = (ports: number[]) => ({ provider_ip: '127.0.0.1', ports });

const rateLimitHeaders = ({ headers }: CheckAnswer) => ({
  limit: headers.get('ratelimit-limit'),
  remaining: headers.get('ratelimit-remaining'),
  reset: Number(headers.get('ratelimit-reset')),
});

describe('the per-client budget', () => {
  it('counts ports, not requests: 10 one-port checks cost what one check of 10 ports does', async () => {
    const { check } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '10' });
    const port = open.ports[0]!;

    const singles: number[] = [];
    for (let i = 0; i < 10; i += 1) singles.push((await check(self([port]))).status);
    const eleventh = await check(self([port]));
    const tenPortsElsewhere = await check(self(Array.from({ length: 10 }, (_, i) => port + i)), from('198.51.100.9'));
    const oneMoreElsewhere = await check(self([port]), from('198.51.100.9'));

    expect(singles).toEqual(Array(10).fill(200));
    expect(eleventh.status).toBe(429);
    expect(tenPortsElsewhere.status).toBe(200);
    expect(oneMoreElsewhere.status).toBe(429);
    expect(eleventh.body.detail).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^per-client limit: 127\.0\.0\.1 may have 10 ports checked per 60 s and 0 are left, fewer than the 1 asked for; retry in \d+ s$/),
      limit: 'client',
    });
  });

  it('is shared by two API processes on one Redis', async () => {
    const { check, startReplica } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '6' });
    const replica = await startReplica();
    const urls = [service.current.url, replica.url];

    const answers: CheckAnswer[] = [];
    for (let i = 0; i < 3; i += 1) answers.push(await check(self(open.ports.slice(0, 2)), { url: urls[i % 2]! }));
    const refused = await Promise.all(urls.map((url) => check(self([open.ports[0]!]), { url })));

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.map((answer) => rateLimitHeaders(answer).remaining)).toEqual(['4', '2', '0']);
    expect(refused.map((answer) => answer.status)).toEqual([429, 429]);
  });

  it('sends RateLimit-Limit, -Remaining and -Reset on answers, and Retry-After with them when it refuses', async () => {
    const { check } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '3' });

    const first = await check(self(open.ports.slice(0, 2)));
    const refused = await check(self(open.ports.slice(0, 2)));

    expect(first.status).toBe(200);
    expect(rateLimitHeaders(first)).toEqual({ limit: '3', remaining: '1', reset: expect.any(Number) });
    expect(rateLimitHeaders(first).reset).toBeGreaterThanOrEqual(59);
    expect(rateLimitHeaders(first).reset).toBeLessThanOrEqual(60);
    expect(refused.status).toBe(429);
    expect(rateLimitHeaders(refused)).toMatchObject({ limit: '3', remaining: '1' });
    expect(refused.headers.get('retry-after')).toBe(String(rateLimitHeaders(refused).reset));
    expect(refused.body.detail.message).toContain(`retry in ${rateLimitHeaders(refused).reset} s`);
  });

  it('lets the client in again when its window resets', async () => {
    const { check } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '2', PORT_CHECKER_RATE_LIMIT_WINDOW: '1' });
    await check(self(open.ports.slice(0, 2)));
    const refused = await check(self([open.ports[0]!]));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');

    await vi.waitFor(async () => expect((await check(self([open.ports[0]!]))).status).toBe(200), { timeout: 5000, interval: 100 });
  });

  it('charges nothing for requests refused by validation, by the target policy or by a limit', async () => {
    const { check } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '2', PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '1', PORT_CHECKER_SELF_CHECK_ONLY: 'false' });

    const refusals = [
      await check('{"ports": [1'),
      await check({ ports: [] }),
      await check(self(Array.from({ length: 200 }, (_, i) => i + 1))),
      await check(self([open.ports[0]!, open.ports[1]!, open.ports[2]!])), // over the client's budget
      await check({ provider_ip: '127.0.0.2', ports: [7466, 7467] }), // over the target's budget
    ];
    const fits = await check(self(open.ports.slice(0, 2)));

    expect(refusals.map((answer) => answer.status)).toEqual([400, 400, 400, 429, 429]);
    expect(fits.status).toBe(200);
    expect(rateLimitHeaders(fits).remaining).toBe('0');
  });

  it('gives back what a check turned away with 503 SERVICE_UNAVAILABLE was charged, but charges one that ended in CHECK_FAILED', async () => {
    // No worker: admitted jobs stay waiting, so a check ends in CHECK_FAILED at its deadline, and past a
    // backlog of 1 the next is turned away as overloaded.
    const { check, jobCount } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '10', PORT_CHECK_DEADLINE: '2', PORT_CHECK_MAX_BACKLOG: '1' }, 0);

    const failing = check(self([7466, 7467]));
    await expect.poll(() => jobCount()).toBe(2);
    const turnedAway = await check(self([7468]));
    const failed = await failing;
    const after = await check(self([7469, 7470, 7471, 7472, 7473, 7474, 7475, 7476, 7477]));

    expect([failed.body.detail.code, turnedAway.body.detail.code]).toEqual(['CHECK_FAILED', 'SERVICE_UNAVAILABLE']);
    // 10 ports: 2 charged for the failed check, the 1 turned away given back: 8 left, too few for 9.
    expect(after.status).toBe(429);
    expect(rateLimitHeaders(after)).toMatchObject({ limit: '10', remaining: '8' });
  });

  it('removes the jobs of a failed check that no worker has taken, so that no worker probes for nobody', async () => {
    // No worker in time: the check fails at its deadline with all its jobs still waiting.
    const { check, jobCount } = await budgeted({ PORT_CHECK_DEADLINE: '1' }, 0);
    const failed = await check(self([7466, 7467, 7468]));
    expect(failed.body.detail.code).toBe('CHECK_FAILED');

    await expect.poll(() => jobCount()).toBe(0);
  });

  it('bounds each IPv6 client per /64, and clients rotating /64s per /56 and /48', async () => {
    const { check } = await budgeted({ PORT_CHECKER_RATE_LIMIT_PORTS: '2', PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_56: '4', PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_48: '8' });
    const port = [open.ports[0]!, open.ports[1]!];
    // Two addresses of one /64, then other /64s of the same /56, then of other /56s of the same /48.
    const clients = ['2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:2::1', '2001:db8:0:3::1', '2001:db8:0:100::1', '2001:db8:0:200::1', '2001:db8:0:300::1'];

    const answers: CheckAnswer[] = [];
    for (const client of clients) answers.push(await check(self(port), from(client)));

    expect(answers.map((answer) => answer.status)).toEqual([200, 429, 200, 429, 200, 200, 429]);
    expect(answers[1]!.body.detail.message).toMatch(/^per-client limit: 2001:db8:0:1::\/64 /);
    expect(answers[3]!.body.detail.message).toMatch(/^per-network limit of clients: 2001:db8::\/56 may have 4 ports/);
    expect(answers[6]!.body.detail.message).toMatch(/^per-network limit of clients: 2001:db8::\/48 may have 8 ports/);
    expect(answers.map((answer) => answer.body.detail?.limit)).toEqual([undefined, 'client', undefined, 'client_network', undefined, undefined, 'client_network']);
  });
});

describe('the cap on ports in flight per client', () => {
  it('refuses a check while the client already has the cap in flight, names it, and lets it in once they end', async () => {
    const filtered = await filteredPorts(1);
    try {
      const limited = await budgeted({ PORT_CHECK_MAX_PORTS: '2', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '2', PORT_CHECK_TIMEOUT: '3', PORT_CHECK_RETRIES: '1' });
      const { check } = limited;
      const held = check(self([filtered.ports[0]!, open.ports[0]!])); // in flight for about 3 s
      // Once its charge is in Redis, the next check of the same client is refused.
      await chargedInFlight(limited, 2);
      const refused = await check(self([open.ports[1]!]));
      expect(refused.status).toBe(429);
      const otherClient = await check(self([open.ports[1]!]), from('198.51.100.7'));

      expect(otherClient.status).toBe(200);
      expect(refused.body.detail.message).toMatch(
        /^per-client limit on ports in flight: 127\.0\.0\.1 may have 2 ports being checked at once and 0 are left, fewer than the 1 asked for; retry in \d+ s$/,
      );
      expect(refused.body.detail.limit).toBe('client_in_flight');
      expect(rateLimitHeaders(refused)).toMatchObject({ limit: '2', remaining: '0' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await held).status).toBe(200);
      expect((await check(self([open.ports[1]!]))).status).toBe(200);
    } finally {
      await filtered.close();
    }
  });

  it("bounds an IPv6 client's /56 and /48 too, at 4 and 16 times the cap, so that rotating /64s buys a bounded multiple", async () => {
    // No worker: each admitted check holds its 2 ports in flight until its deadline. Cap 2: a /56 holds 8, a /48 32.
    const limited = await budgeted({ PORT_CHECK_MAX_PORTS: '2', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '2', PORT_CHECK_DEADLINE: '3' }, 0);
    const { check, config } = limited;
    const port = open.ports.slice(0, 2);
    // Four /64s of 2001:db8:0:100::/56, each at its own cap: the /56 is full once all four are charged.
    const held = ['100', '101', '102', '103'].map((slash64) => check(self(port), from(`2001:db8:0:${slash64}::1`)));
    const redis = new Redis(redisUrlOf(config));
    try {
      await expect.poll(() => redis.zcard(`port-checker:${config.queueName}:in-flight:2001:db8:0:100::/56`)).toBe(4);
    } finally {
      redis.disconnect();
    }

    const fifth = await check(self(port), from('2001:db8:0:1ff::1'));
    const otherNetwork = check(self(port), from('2001:db8:0:200::1'));

    expect(fifth.status).toBe(429);
    expect(fifth.body.detail.limit).toBe('client_network_in_flight');
    expect(fifth.body.detail.message).toMatch(/^per-network limit of clients on ports in flight: 2001:db8:0:100::\/56 may have 8 ports being checked at once/);
    held.push(otherNetwork);
    // The others were admitted: no worker, so each ends in CHECK_FAILED at its deadline, never a 429.
    expect((await Promise.all(held)).map((answer) => answer.body.detail.code)).toEqual(Array(5).fill('CHECK_FAILED'));
  });
});

describe('the per-target budgets', () => {
  it('refuse whole, before enqueueing anything and without charging, a check that would go over', async () => {
    const { check, jobCount } = await budgeted({ PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '10' });
    const ports = await closedPorts(10);
    const target = (list: number[]) => ({ provider_ip: '127.0.0.2', ports: list }); // someone else's address

    const first = await check(target(ports.slice(0, 6)));
    const jobsAfterFirst = await jobCount();
    const tooMany = await check(target(ports.slice(0, 5)));
    const jobsAfterRefusal = await jobCount();
    const fits = await check(target(ports.slice(6, 10)));
    const overByOne = await check(target(ports.slice(0, 1)));

    expect(first.status).toBe(200);
    expect(jobsAfterFirst).toBe(6);
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.detail).toEqual({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/^per-target limit: 127\.0\.0\.2 may be probed on 10 ports per 60 s and 4 are left, fewer than the 5 asked for; retry in \d+ s$/),
      limit: 'target',
    });
    expect(rateLimitHeaders(tooMany)).toMatchObject({ limit: '10', remaining: '4' });
    expect(Number(tooMany.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(jobsAfterRefusal).toBe(6);
    expect(fits.status).toBe(200);
    expect(overByOne.status).toBe(429);
  });

  it('take back what a refused check was charged to the budgets before the one that refused it', async () => {
    const filtered = await filteredPorts(1);
    try {
      const limited = await budgeted({
        PORT_CHECKER_RATE_LIMIT_PORTS: '300',
        PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '10',
        PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '6',
        PORT_CHECK_MAX_PORTS: '6',
        PORT_CHECK_TIMEOUT: '1',
        PORT_CHECK_RETRIES: '1',
      });
      const { check } = limited;
      const ports = await closedPorts(10);
      const stranger = (list: number[]) => ({ provider_ip: '127.0.0.2', ports: list });

      const first = await check(stranger(ports.slice(0, 6)));
      const overTarget = await check(stranger(ports.slice(0, 5))); // the client's budget has room, the target's not
      const held = check(self([filtered.ports[0]!, open.ports[0]!])); // 2 of the 6 in flight for about 1 s
      await chargedInFlight(limited, 2);
      const overInFlight = await check(self(ports.slice(0, 5)));
      expect(overInFlight.status).toBe(429);
      await held;
      const after = await check(self([open.ports[1]!]));

      expect(first.status).toBe(200);
      expect(overTarget.body.detail.message).toMatch(/^per-target limit: /);
      expect(overInFlight.body.detail.message).toMatch(/^per-client limit on ports in flight: /);
      // 6 + 2 + 1 ports charged: neither refusal cost the client anything.
      expect(rateLimitHeaders(after)).toMatchObject({ limit: '300', remaining: String(300 - 9) });
    } finally {
      await filtered.close();
    }
  });

  it('never charge a check of the caller\'s own address, so strangers cannot lock a provider out of checking itself', async () => {
    const { check } = await budgeted({ PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '2' });
    const provider = '127.0.0.1';

    const stranger = await check({ provider_ip: provider, ports: open.ports.slice(0, 2) }, from('198.51.100.66'));
    const strangerAgain = await check({ provider_ip: provider, ports: [open.ports[2]!] }, from('198.51.100.67'));
    const providerItself = [await check({ provider_ip: provider, ports: open.ports }), await check({ ports: open.ports })];

    expect([stranger.status, strangerAgain.status]).toEqual([200, 429]);
    expect(strangerAgain.body.detail.message).toMatch(/^per-target limit: 127\.0\.0\.1 /);
    expect(providerItself.map((answer) => answer.status)).toEqual([200, 200]);
  });

  it('count per IPv4 /24 too, so that a network cannot be scanned one address at a time', async () => {
    const { check, jobCount } = await budgeted({ PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '2', PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS: '5' });
    const ports = await closedPorts(2);
    const neighbours = ['127.0.5.1', '127.0.5.2', '127.0.5.3'];

    const answers: CheckAnswer[] = [];
    for (const address of neighbours) answers.push(await check({ provider_ip: address, ports }));
    const otherNetwork = await check({ provider_ip: '127.0.6.1', ports });

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers[2]!.body.detail.message).toMatch(/^per-target-network limit: 127\.0\.5\.0\/24 may be probed on 5 ports per 60 s and 1 are left/);
    expect(otherNetwork.status).toBe(200);
    expect(await jobCount()).toBe(6);
  });

  it('are shared by every client, while each client keeps its own budget', async () => {
    const { check } = await budgeted({ PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '3', PORT_CHECKER_RATE_LIMIT_PORTS: '5' });
    const ports = await closedPorts(3);
    const target = (list: number[]) => ({ provider_ip: '127.0.0.2', ports: list });

    const a = await check(target(ports.slice(0, 2)), from('198.51.100.1'));
    const b = await check(target(ports.slice(0, 2)), from('198.51.100.2'));
    const bFits = await check(target(ports.slice(2)), from('198.51.100.2'));

    expect([a.status, b.status, bFits.status]).toEqual([200, 429, 200]);
    expect(b.body.detail.message).toMatch(/^per-target limit/);
    expect(rateLimitHeaders(a).remaining).toBe('3');
    expect(rateLimitHeaders(bFits).remaining).toBe('4');
  });
});

describe('when Redis stops', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(() => redis.start()); // before the service stops, even if the test failed
  afterAll(() => redis?.stop());

  it('the budgets answer 503 SERVICE_UNAVAILABLE with Retry-After (neither a 500 nor an unlimited pass) until Redis is back', async () => {
    const { check } = await service.start({ redisUrl: redis.url, env: { PORT_CHECKER_RATE_LIMIT_PORTS: '300' } });
    expect((await check(self(open.ports))).status).toBe(200);

    await redis.stop();
    const { status, body, headers } = await check(self(open.ports));

    expect(status).toBe(503);
    expect(body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/rate limiter/) });
    expect(headers.get('retry-after')).toMatch(/^\d+$/);

    await redis.start();
    await vi.waitFor(async () => expect((await check(self(open.ports))).status).toBe(200), { timeout: 15_000, interval: 250 });
  });
});

describe('the cost in Redis', () => {
  // A Redis of its own, whose commands this test reads with MONITOR.
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis?.stop());

  it('is one script call for every budget of a check together, and one command when it ends', async () => {
    const { check } = await service.start({ redisUrl: redis.url, env: { ...BUDGETS_AT_DEFAULTS, PORT_CHECKER_TRUST_PROXY: 'loopback' } });
    expect((await check({ provider_ip: '127.0.0.2', ports: [open.ports[0]!] })).status).toBe(200); // loads the script
    const client = new Redis(redis.url);
    const monitor = await client.monitor();
    const budgetCommands: string[][] = [];
    // The overload guard and BullMQ run commands of their own meanwhile: only those on budget keys
    // count, and not those a script runs ("lua" as their source).
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => /:(budget|in-flight):/.test(arg))) budgetCommands.push(args);
    });
    try {
      // A stranger's check: the client's budget, its in-flight cap, the target's and the target network's.
      const answer = await check({ provider_ip: '127.0.0.2', ports: [open.ports[0]!] }, from('198.51.100.3'));
      expect(answer.status).toBe(200);
      await vi.waitFor(() => expect(budgetCommands.map(([command]) => command?.toLowerCase())).toEqual(['evalsha', 'zrem']));
      expect(budgetCommands[0]!.filter((arg) => /:budget:/.test(arg))).toHaveLength(3);
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
  });
});
