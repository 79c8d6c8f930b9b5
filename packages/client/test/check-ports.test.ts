import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPorts, openPorts, type Ports } from '../../../test/support/listeners.js';
import { startService, type Service } from '../../../test/support/service.js';
import { CheckPortsError, checkPorts, createChallenge } from '../src/check-ports.js';

let service: Service;
let open: Ports;
let standIns: Server[] = [];
beforeAll(async () => {
  service = await startService({ env: { PORT_CHECK_TIMEOUT: '0.5', PORT_CHECK_RETRIES: '1' } });
  open = await openPorts(1);
});
afterAll(async () => {
  await service?.stop();
  await open?.close();
});
afterEach(async () => {
  for (const server of standIns) server.closeAllConnections();
  await Promise.all(standIns.map((server) => new Promise((resolve) => server.close(resolve))));
  standIns = [];
});

/** A broken checker on loopback: what the real service cannot be made to do. */
async function standIn(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  standIns.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const deadServer = async (): Promise<string> => `http://127.0.0.1:${(await closedPorts(1))[0]}`;

describe('checkPorts', () => {
  it("returns the checker's per-port results, which checker answered and the attempts", async () => {
    const result = await checkPorts({ servers: [service.url], ports: open.ports, providerIp: '127.0.0.1', timeoutMs: 5000 });

    expect(result).toEqual({
      server: service.url,
      providerIp: '127.0.0.1',
      results: { [open.ports[0]!]: { accessible: true, error: null, state: 'open', attempts: 1, latency_ms: expect.any(Number) } },
      attempts: [{ server: service.url, status: 200, error: null, elapsedMs: expect.any(Number) }],
    });
  });

  it('sends the challenge and returns the verdict', async () => {
    const result = await checkPorts({ servers: [service.url], ports: open.ports, timeoutMs: 5000, challenge: createChallenge() });
    expect(result.results[open.ports[0]!]).toMatchObject({ accessible: true, verified: false });
  });

  it('moves on past a dead checker, a non-200, a checker that never answers and a 200 that is not an answer', async () => {
    const dead = await deadServer();
    const busy = await standIn((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: { code: 'CHECK_FAILED', message: 'try another checker' } }));
    });
    const silent = await standIn(() => {});
    const garbage = await standIn((_req, res) => res.end('{"success": true}'));
    const seen: string[] = [];

    const result = await checkPorts({
      servers: [dead, busy, silent, garbage, service.url],
      ports: open.ports,
      providerIp: '127.0.0.1',
      // Per server: the real one has a Redis round trip and a worker to go through.
      timeoutMs: 1000,
      onAttempt: (attempt) => seen.push(attempt.server),
    });

    expect(result.server).toBe(service.url);
    expect(result.results[open.ports[0]!]!.accessible).toBe(true);
    expect(result.attempts).toEqual([
      { server: dead, status: null, error: expect.stringContaining('ECONNREFUSED'), elapsedMs: expect.any(Number) },
      { server: busy, status: 503, error: 'HTTP 503 CHECK_FAILED: try another checker', elapsedMs: expect.any(Number) },
      { server: silent, status: null, error: 'no answer within 1000 ms', elapsedMs: expect.any(Number) },
      { server: garbage, status: 200, error: expect.stringMatching(/^not a port checker's answer/), elapsedMs: expect.any(Number) },
      { server: service.url, status: 200, error: null, elapsedMs: expect.any(Number) },
    ]);
    expect(seen).toEqual([dead, busy, silent, garbage, service.url]);
  });

  it('moves on when the answer leaves out a port that was asked for', async () => {
    const partial = await standIn((_req, res) => {
      res.end(JSON.stringify({ success: false, results: {}, message: 'Successfully verified 0 out of 0 ports', provider_ip: '127.0.0.1' }));
    });
    const result = await checkPorts({ servers: [partial, service.url], ports: open.ports, providerIp: '127.0.0.1', timeoutMs: 5000 });
    expect(result.attempts[0]!.error).toBe(`the answer leaves out port ${open.ports[0]}`);
    expect(result.server).toBe(service.url);
  });

  it('throws CheckPortsError with every attempt when no checker answers', async () => {
    const [first, second] = [await deadServer(), await deadServer()];
    const failing = checkPorts({ servers: [first, second], ports: [7466], timeoutMs: 1000 });
    await expect(failing).rejects.toThrow(CheckPortsError);
    const error = (await failing.catch((err: unknown) => err)) as CheckPortsError;
    expect(error.attempts.map((attempt) => attempt.server)).toEqual([first, second]);
    expect(error.message).toMatch(/^no port checker answered: .*ECONNREFUSED.*; .*ECONNREFUSED/);
  });

  it('stops at once, without trying the next checker, when its signal aborts', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const silent = await standIn(() => controller.abort(new Error('stop')));
    const pending = checkPorts({
      servers: [silent, service.url],
      ports: [7466],
      timeoutMs: 60_000,
      signal: controller.signal,
      onAttempt: (attempt) => seen.push(attempt.server),
    });
    await expect(pending).rejects.toThrow('stop');
    expect(seen).toEqual([]);
  });

  it.each([
    [{ servers: [], ports: [7466] }, 'at least one server'],
    [{ servers: ['checker:9000'], ports: [7466] }, 'not an http:// or https:// URL'],
    [{ servers: ['http://checker:9000'], ports: [] }, 'ports'],
    [{ servers: ['http://checker:9000'], ports: [70000] }, 'ports'],
    [{ servers: ['http://checker:9000'], ports: [7466], challenge: 'short' }, 'challenge'],
  ])('refuses a check it cannot send: %j', async (options, message) => {
    await expect(checkPorts({ ...options, timeoutMs: 1000 })).rejects.toThrow(message);
  });
});
