import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_USE_NOTE, VerifyReport } from '@port-checker/client';
import { CHALLENGE_TIMEOUT_MS } from '../../apps/worker/src/tcp-attempt.js';
import { VERSION } from '../../packages/client/src/verify-command.js';
import { exitOf, runCli, runCliInTerminal, spawnCli } from '../support/cli.js';
import { bindablePorts, closedPorts, openPortAt, openPorts, readFrom, type Ports } from '../support/listeners.js';
import { recordingListener } from '../support/recording-listener.js';
import { BUDGETS_AT_DEFAULTS, startService, type Service } from '../support/service.js';

const PROBE_ENV = { PORT_CHECK_TIMEOUT: '0.5', PORT_CHECK_RETRY_DELAY: '0.05', PORT_CHECK_RETRIES: '1' };
let service: Service;
let other: Ports;
beforeAll(async () => {
  service = await startService({ env: PROBE_ENV });
  other = await openPorts(1); // another process's service: accepts and hangs up
});
afterAll(async () => {
  await service?.stop();
  await other?.close();
});

/** Throws unless every port can be bound again: nothing of the CLI's is left listening. */
async function expectFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) await (await openPortAt(port)).close();
}

const jsonReport = (stdout: string): VerifyReport => VerifyReport.parse(JSON.parse(stdout));

describe('port-checker verify', () => {
  it('binds the free ports and has the checker verify every one: exit 0, JSON by its schema', async () => {
    const ports = await bindablePorts(3);

    const run = await runCli(['verify', '--ports', ports.join(','), '--server', service.url, '--json']);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const report = jsonReport(run.stdout);
    expect(report).toMatchObject({ ok: true, server: service.url, provider_ip: '127.0.0.1' });
    expect(report.ports).toEqual(
      ports.map((port) => ({
        port,
        local: 'bound',
        local_error: null,
        reachable: true,
        accessible: true,
        state: 'open',
        verified: true,
        verify_error: null,
        latency_ms: expect.any(Number),
        error: null,
        attempts: 1,
      })),
    );
    expect(report.attempts).toEqual([{ server: service.url, status: 200, error: null, elapsed_ms: expect.any(Number) }]);
    await expectFree(ports);
  });

  it('leaves a port served by another listener alone: accessible, asked without the challenge', async () => {
    const [free] = await closedPorts(1);
    const theirs = other.ports[0]!;

    const run = await runCli(['verify', '--ports', `${theirs},${free}`, '--server', service.url, '--json']);

    const report = jsonReport(run.stdout);
    expect(report.ports[0]).toMatchObject({
      port: theirs,
      local: 'in-use',
      local_error: expect.stringContaining('EADDRINUSE'),
      accessible: true,
      // Asked without the challenge, which the other service could not answer: no verdict, no error.
      verified: null,
      verify_error: null,
      reachable: true,
    });
    expect(report.ports[1]).toMatchObject({ port: free, local: 'bound', verified: true, reachable: true });
    expect(run.code).toBe(0);
    // Still the other listener's, which hangs up at once: the CLI did not take it over.
    expect(await readFrom(theirs)).toBe('');
  });

  it('does not make the checker wait for a challenge that a port in use cannot send', async () => {
    // Another program that accepts and stays silent, on a checker whose attempts last 10 s: asked
    // with the challenge, its probe would hold the connection for the whole challenge wait.
    const patient = await startService({ env: { PORT_CHECK_TIMEOUT: '10', PORT_CHECK_RETRIES: '1' } });
    const silent = await recordingListener();
    try {
      const [free] = await bindablePorts(1);

      const run = await runCli(['verify', '--ports', `${silent.port},${free}`, '--server', patient.url, '--json']);

      expect(run.code).toBe(0);
      expect(jsonReport(run.stdout).ports.map((p) => [p.local, p.verified])).toEqual([['in-use', null], ['bound', true]]);
      // Timed at the silent program, not around the CLI (whose start alone takes a second or two
      // on a busy machine): let go at once (ms), not after the 2 s challenge wait. Three quarters of
      // it leaves seconds of slack and still tells the two apart.
      const [connection] = await silent.connections(1);
      expect(connection!.received).toBe('');
      expect(connection!.openMs).toBeLessThan(0.75 * CHALLENGE_TIMEOUT_MS);
    } finally {
      await silent.close();
      await patient.stop();
    }
  });

  it('checks more ports than one request holds in several requests to the same checker, within its default budgets', async () => {
    // The budgets as a checker has them by default: 128 ports in flight per client, so the
    // requests must not all be in flight at once.
    const limited = await startService({ env: { ...PROBE_ENV, ...BUDGETS_AT_DEFAULTS } });
    try {
      const ports = await bindablePorts(130);

      const run = await runCli(['verify', '--ports', ports.join(','), '--server', limited.url, '--json']);

      expect(run).toMatchObject({ code: 0, stderr: '' });
      const report = jsonReport(run.stdout);
      expect(report.ports.map((p) => p.port)).toEqual(ports);
      expect(report.ports.every((p) => p.verified === true)).toBe(true);
      expect(report.attempts).toEqual([{ server: limited.url, status: 200, error: null, elapsed_ms: expect.any(Number) }]);
      expect(checkRequests(limited)).toBe(2); // 128 + 2
    } finally {
      await limited.stop();
    }
  });

  it('asks the servers in PORT_CHECKER_URL when no --server is given', async () => {
    const [port, deadPort] = await closedPorts(2);
    const dead = `http://127.0.0.1:${deadPort}`;

    const run = await runCli(['verify', '-p', String(port), '--json'], { PORT_CHECKER_URL: `${dead},${service.url}` });

    expect(run.code).toBe(0);
    expect(jsonReport(run.stdout).attempts.map((attempt) => attempt.server)).toEqual([dead, service.url]);
  });

  it('prints its version', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('fails over from a dead checker to a live one', async () => {
    const [port, deadPort] = await closedPorts(2);
    const dead = `http://127.0.0.1:${deadPort}`;

    const run = await runCli(['verify', '-p', String(port), '-s', dead, '-s', service.url, '--json']);

    expect(run.code).toBe(0);
    const report = jsonReport(run.stdout);
    expect(report.server).toBe(service.url);
    expect(report.attempts).toEqual([
      { server: dead, status: null, error: expect.stringContaining('ECONNREFUSED'), elapsed_ms: expect.any(Number) },
      { server: service.url, status: 200, error: null, elapsed_ms: expect.any(Number) },
    ]);
    expect(report.ports[0]).toMatchObject({ port, verified: true });
  });

  it('exits 1 when a port is not reachable at the checked address', async () => {
    const [port] = await closedPorts(1);

    // Listening on ::1 only, while the checker probes the caller's 127.0.0.1: refused. (A challenge
    // is only checked at the caller's own address, so --ip cannot name another one here.)
    const run = await runCli(['verify', '-p', String(port), '-s', service.url, '--ip', '127.0.0.1', '--bind', '::1', '--json']);

    expect(run.code).toBe(1);
    const report = jsonReport(run.stdout);
    expect(report).toMatchObject({ ok: false, provider_ip: '127.0.0.1' });
    expect(report.ports[0]).toMatchObject({ local: 'bound', reachable: false, state: 'closed', error: 'Connection refused', verified: false });
  });

  it('prints a table for a person: port, local binding, reachable, state, verified, latency, server', async () => {
    const [port] = await closedPorts(1);
    const theirs = other.ports[0]!;

    const run = await runCli(['verify', '--ports', `${port},${theirs}`, '--server', service.url]);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^PORT +LOCAL +REACHABLE +STATE +VERIFIED +LATENCY +SERVER +NOTE$/);
    expect(lines[1]).toMatch(new RegExp(`^${port} +bound +yes +open +yes +[\\d.]+ ms +${service.url}$`));
    expect(lines[2]).toMatch(new RegExp(`^${theirs} +in use +yes +open +- +[\\d.]+ ms +${service.url} +${IN_USE_NOTE}$`));
    expect(run.stdout).toContain(`2 of 2 ports reachable at 127.0.0.1, checked by ${service.url}`);
  });

  it('exits 2 on a usage error, with the reason on stderr and nothing on stdout', async () => {
    const run = await runCli(['verify', '--ports', '7466,70000', '--server', service.url, '--json']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('--ports: "70000" is not a port');
  });

  it('exits 2 when no checker answers, saying what each one did', async () => {
    const [port, deadA, deadB] = await closedPorts(3);
    const servers = [`http://127.0.0.1:${deadA}`, `http://127.0.0.1:${deadB}`];

    const run = await runCli(['verify', '-p', String(port), '-s', servers[0]!, '-s', servers[1]!, '--json']);

    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('no port checker answered');
    for (const server of servers) expect(run.stderr).toMatch(new RegExp(`${server}: .*ECONNREFUSED`));
    await expectFree([port!]);
  });

  it('closes its listeners and exits on Ctrl-C while the checker works', async () => {
    const ports = await closedPorts(2);
    // A checker that takes its time: the CLI is waiting for it once the request arrives.
    const slow = createServer();
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const requested = once(slow, 'request') as Promise<[IncomingMessage]>;
    try {
      const cli = spawnCli(['verify', '-p', ports.join(','), '-s', `http://127.0.0.1:${(slow.address() as AddressInfo).port}`]);
      const [request] = await requested;
      const challenge = (JSON.parse(await readBody(request)) as { challenge: string }).challenge;
      expect(await readFrom(ports[0]!)).toBe(challenge); // the temporary listeners are up

      const abandoned = once(request.socket, 'close');
      cli.kill('SIGINT');
      const run = await exitOf(cli);

      expect(run).toMatchObject({ code: 130, signal: null, stdout: '' });
      expect(run.stderr).toContain('interrupted; the temporary listeners are closed');
      await abandoned; // the CLI stopped waiting for the checker
      await expectFree(ports);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('shows a progress line while waiting when stderr is a terminal', async () => {
    const [port] = await closedPorts(1);
    const run = await runCliInTerminal(['verify', '--ports', String(port), '--server', service.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Checking 1 port with ${service.url}… 0 s`);
    expect(run.stdout).toContain('1 of 1 ports reachable');
  });
});

/** POST /check-ports requests the service has answered so far, from its log lines. */
const checkRequests = (of = service): number => of.apiLogs.lines.filter((line) => line.path === '/check-ports').length;

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  return body;
}
