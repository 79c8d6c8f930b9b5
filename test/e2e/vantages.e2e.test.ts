// Probing from several vantages (README "Probing from several vantages"): three worker processes,
// vantages a, b and c, probing from 127.0.0.2, .3 and .4; an API asking all three of each port
// (PORT_CHECK_VANTAGES=3, a quorum of 2), and one asking one, as by default.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runCli } from '../support/cli.js';
import { bindablePorts, closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { scrape, valueOf } from '../support/metrics.js';
import type { AppProcess } from '../support/processes.js';
import { checkPorts, startApiProcess, startVantage, tokenExceptFrom, VANTAGES } from '../support/vantages.js';
import { appEnv } from '../support/service.js';

const QUEUE = `vantages-${randomUUID()}`;
const env = appEnv(inject('redisUrl'), QUEUE);
const apps: AppProcess[] = [];
let workers: AppProcess[];
let three: { url: string; metricsUrl: string };
let unanimous: { url: string };
let one: { url: string };
let open: Ports;
let closed: number;

beforeAll(async () => {
  workers = await Promise.all(VANTAGES.map((vantage) => startVantage(vantage, env)));
  apps.push(...workers);
  const [asksThree, needsThree, asksOne] = await Promise.all([
    startApiProcess({ ...env, PORT_CHECK_VANTAGES: '3' }),
    startApiProcess({ ...env, PORT_CHECK_VANTAGES: '3', PORT_CHECK_QUORUM: '3' }),
    startApiProcess(env),
  ]);
  apps.push(asksThree.api, needsThree.api, asksOne.api);
  three = asksThree;
  unanimous = needsThree;
  one = asksOne;
  open = await openPorts(1);
  [closed] = (await closedPorts(1)) as [number];
}, 60_000);
afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop('SIGKILL')));
  await open?.close();
});

describe('a check from three vantages', () => {
  it('asks every vantage about every port and answers with their agreement of 3, each vantage named with its labels', async () => {
    const port = open.ports[0]!;
    const { status, body } = await checkPorts(three.url, { provider_ip: '127.0.0.1', ports: [port, closed] });

    expect(status).toBe(200);
    expect(body.success).toBe(true);
    const agreement = { asked: 3, answered: 3, agree: 3, required: 2 };
    expect(body.results[String(port)]).toMatchObject({ accessible: true, state: 'open', error: null, agreement });
    expect(body.results[String(closed)]).toMatchObject({ accessible: false, state: 'closed', error: 'Connection refused', agreement });
    const seen = body.results[String(port)]!.vantages!;
    expect(Object.keys(seen).sort()).toEqual(['a', 'b', 'c']);
    for (const [vantage, { region, network, status: probed, state, attempts }] of Object.entries(seen)) {
      const labels = VANTAGES.find(({ id }) => id === vantage)!;
      expect({ region, network, probed, state, attempts }).toEqual({ region: labels.region, network: labels.network, probed: 'finished', state: 'open', attempts: 1 });
    }
    // Each vantage probed from its own source address: each worker made the attempts it was asked.
    for (const worker of workers) {
      const samples = await scrape(String((await worker.waitForLine((line) => line.msg === 'worker started')).metricsUrl));
      const vantage = VANTAGES[workers.indexOf(worker)]!.id;
      expect(valueOf(samples, 'port_checker_probes_total', { state: 'open', vantage })).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, 'port_checker_probes_total', { state: 'closed', vantage })).toBeGreaterThanOrEqual(1);
    }
  });

  it('reports a split: the vantage whose connections are reset never reads the token, the verdict is the other two\'s', async () => {
    const token = `token-${randomUUID()}`;
    // Only 127.0.0.3, vantage b's source, is reset: the port answers the others with the token.
    const split = await tokenExceptFrom('127.0.0.3', token);
    try {
      // A challenge is checked at the caller's own address only: no provider_ip, the caller is 127.0.0.1.
      const { status, body } = await checkPorts(three.url, { ports: [split.port], challenge: token });

      expect(status).toBe(200);
      const result = body.results[String(split.port)]!;
      expect(result).toMatchObject({ accessible: true, state: 'open', verified: true, verify_error: null, agreement: { asked: 3, answered: 3, agree: 2, required: 2 } });
      const byVantage = Object.fromEntries(Object.entries(result.vantages!).map(([vantage, { status: probed, verified }]) => [vantage, { probed, verified }]));
      expect(byVantage).toEqual({
        a: { probed: 'finished', verified: true },
        b: { probed: 'finished', verified: false },
        c: { probed: 'finished', verified: true },
      });
      const samples = await scrape(three.metricsUrl);
      expect(valueOf(samples, 'port_checker_vantage_split_ports_total')).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, 'port_checker_vantage_probes_total', { vantage: 'b', status: 'finished' })).toBeGreaterThanOrEqual(1);
    } finally {
      await split.close();
    }
  });

  it('answers a split as not accessible, saying so: with all three required, two that agree are not enough', async () => {
    const token = `token-${randomUUID()}`;
    const split = await tokenExceptFrom('127.0.0.3', token);
    try {
      const { status, body } = await checkPorts(unanimous.url, { ports: [split.port], challenge: token });

      expect(status).toBe(200);
      expect(body.success).toBe(false);
      const result = body.results[String(split.port)]!;
      expect(result).toMatchObject({ accessible: false, state: 'error', verified: false, agreement: { asked: 3, answered: 3, agree: 2, required: 3 } });
      expect(result.error).toBe('the vantages disagree: 2 found it open and verified, 1 found it open, not verified; 3 must agree');
    } finally {
      await split.close();
    }
  });
});

describe('port-checker verify against a checker with three vantages', () => {
  it('--verbose lists under each port what each vantage found, and --json carries vantages and agreement', async () => {
    const [port] = (await bindablePorts(1)) as [number];
    const verbose = await runCli(['verify', '--ports', String(port), '--server', three.url, '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toContain(`3 of 3 vantages that finished found it open (3 asked)`);
    for (const { id, region, network } of VANTAGES) {
      expect(verbose.stdout).toMatch(new RegExp(`^    from ${id} \\(${region}, ${network}\\): open, [\\d.]+ ms, verified$`, 'm'));
    }

    const json = await runCli(['verify', '--ports', String(port), '--server', three.url, '--json']);
    const [reported] = (JSON.parse(json.stdout) as { ports: Array<{ agreement: unknown; vantages: Record<string, unknown> }> }).ports;
    expect(reported!.agreement).toEqual({ asked: 3, answered: 3, agree: 3, required: 2 });
    expect(Object.keys(reported!.vantages).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('a check from one vantage, as by default', () => {
  it("answers exactly today's JSON, with vantage workers serving it: no vantages, no agreement", async () => {
    const port = open.ports[0]!;
    const { status, text, body } = await checkPorts(one.url, { provider_ip: '127.0.0.1', ports: [port, closed] });

    expect(status).toBe(200);
    const latency = body.results[String(port)]!.latency_ms;
    expect(typeof latency).toBe('number');
    // The answer before vantages existed, byte for byte (the open port's latency aside, which varies);
    // JSON objects list integer keys in ascending order.
    const results = [
      [port, `{"accessible":true,"error":null,"state":"open","attempts":1,"latency_ms":${latency}}`] as const,
      [closed, '{"accessible":false,"error":"Connection refused","state":"closed","attempts":1,"latency_ms":null}'] as const,
    ].sort(([a], [b]) => a - b);
    expect(text).toBe(
      `{"success":true,"results":{${results.map(([key, result]) => `"${key}":${result}`).join(',')}},` +
        '"message":"Successfully verified 1 out of 2 ports","provider_ip":"127.0.0.1"}',
    );
  });
});

describe('budgets from three vantages', () => {
  it('count each port once per vantage: 2 ports cost 6 of a budget of 7, and 1 more port (3) is refused', async () => {
    const limited = await startApiProcess({ ...env, PORT_CHECK_VANTAGES: '3', PORT_CHECKER_RATE_LIMIT_PORTS: '7' });
    apps.push(limited.api);
    const first = await checkPorts(limited.url, { provider_ip: '127.0.0.1', ports: [open.ports[0]!, closed] });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-remaining')).toBe('1');

    const second = await checkPorts(limited.url, { provider_ip: '127.0.0.1', ports: [closed] });
    expect(second.status).toBe(429);
    expect(second.body.detail).toMatchObject({ code: 'RATE_LIMITED', limit: 'client' });
  });
});

describe('a request that asks for fewer vantages', () => {
  it('is probed from that many, a majority of them must agree, and its budgets count that many per port', async () => {
    const limited = await startApiProcess({ ...env, PORT_CHECK_VANTAGES: '3', PORT_CHECKER_RATE_LIMIT_PORTS: '100' });
    apps.push(limited.api);
    const before = await checkPorts(limited.url, { provider_ip: '127.0.0.1', ports: [closed], vantages: 1 });
    const { status, headers, body } = await checkPorts(limited.url, { provider_ip: '127.0.0.1', ports: [open.ports[0]!, closed], vantages: 2 });

    expect([before.status, status]).toEqual([200, 200]);
    expect(Object.keys(before.body.results[String(closed)]!.vantages!)).toHaveLength(1);
    const result = body.results[String(open.ports[0])]!;
    expect(result).toMatchObject({ accessible: true, state: 'open', agreement: { asked: 2, answered: 2, agree: 2, required: 2 } });
    expect(Object.keys(result.vantages!)).toHaveLength(2);
    // 2 ports × 2 vantages (the budget is the client's, shared with this file's other checks).
    expect(Number(before.headers.get('ratelimit-remaining')) - Number(headers.get('ratelimit-remaining'))).toBe(4);
  });

  it('may not ask for more than the checker has, nor for none: 400 INVALID_REQUEST', async () => {
    const more = await checkPorts(three.url, { provider_ip: '127.0.0.1', ports: [closed], vantages: 4 });
    expect(more.status).toBe(400);
    expect(more.body.detail).toEqual({ code: 'INVALID_REQUEST', message: 'vantages must be from 1 to 3: this checker probes from at most 3, got 4' });
    const ofOne = await checkPorts(one.url, { provider_ip: '127.0.0.1', ports: [closed], vantages: 2 });
    expect(ofOne.body.detail).toEqual({ code: 'INVALID_REQUEST', message: 'vantages must be from 1 to 1: this checker probes from at most 1, got 2' });
    const zero = await checkPorts(three.url, { provider_ip: '127.0.0.1', ports: [closed], vantages: 0 });
    expect(zero.body.detail).toEqual({ code: 'INVALID_REQUEST', message: 'vantages must be a whole number of vantages, at least 1' });
  });
});

describe('/check-tls from several vantages', () => {
  async function checkTls(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${url}/check-tls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('makes one handshake from each vantage asked and answers with their agreement; unasked, one handshake as before', async () => {
    // A port that accepts and hangs up: no vantage completes a handshake there.
    const port = open.ports[0]!;
    const asked = await checkTls(three.url, { host: '127.0.0.1', port, vantages: 3 });
    expect(asked.status).toBe(200);
    expect(asked.body).toMatchObject({ valid: false, peer: `127.0.0.1:${port}`, agreement: { asked: 3, answered: 3, agree: 3, required: 2 } });
    const seen = asked.body.vantages as Record<string, { status: string; valid: boolean }>;
    expect(Object.fromEntries(Object.entries(seen).map(([id, { status, valid }]) => [id, { status, valid }]))).toEqual({
      a: { status: 'finished', valid: false },
      b: { status: 'finished', valid: false },
      c: { status: 'finished', valid: false },
    });

    const unasked = await checkTls(three.url, { host: '127.0.0.1', port });
    expect(unasked.status).toBe(200);
    expect(Object.keys(unasked.body).sort()).toEqual(['error', 'not_after', 'peer', 'valid']);

    const more = await checkTls(three.url, { host: '127.0.0.1', port, vantages: 4 });
    expect(more.status).toBe(400);
    expect(more.body).toEqual({ detail: { code: 'INVALID_REQUEST', message: 'vantages must be from 1 to 3: this checker probes from at most 3, got 4' } });
  });
});
