import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckPortsResponse, ErrorResponse } from '@port-checker/shared';
import { bindTemporaryListeners, createChallenge, type TemporaryListeners } from '@port-checker/client';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { recordingListener } from '../support/recording-listener.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
let other: Ports;
beforeAll(async () => {
  // A probe timeout longer than the 2 s a challenge is waited for, so that the two can be told apart.
  service = await startService({ env: { PORT_CHECK_TIMEOUT: '6', PORT_CHECK_RETRY_DELAY: '0.05', PORT_CHECK_RETRIES: '2' } });
  other = await openPorts(1); // accepts and hangs up: some other service on the port
});
afterAll(async () => {
  await service?.stop();
  await other?.close();
});

describe('POST /check-ports with a challenge', () => {
  let ours: TemporaryListeners | undefined;
  afterAll(() => ours?.close());

  it("reports verified only for the ports whose listener sends the token back, and why not for the rest", async () => {
    const challenge = createChallenge();
    const free = await closedPorts(2);
    ours = await bindTemporaryListeners([free[0]!], { challenge, host: '127.0.0.1' });
    const [mine, theirs, closed] = [free[0]!, other.ports[0]!, free[1]!];

    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: [mine, theirs, closed], challenge });

    expect(status).toBe(200);
    expect(CheckPortsResponse.strict().parse(body)).toEqual(body);
    expect(body.results).toEqual({
      [mine]: { accessible: true, error: null, state: 'open', attempts: 1, latency_ms: expect.any(Number), verified: true, verify_error: null },
      [theirs]: {
        accessible: true,
        error: null,
        state: 'open',
        attempts: 1,
        latency_ms: expect.any(Number),
        verified: false,
        verify_error: 'Connection closed without the challenge',
      },
      [closed]: {
        accessible: false,
        error: 'Connection refused',
        state: 'closed',
        attempts: 1,
        latency_ms: null,
        verified: false,
        verify_error: 'Not accessible',
      },
    });
    expect(body.message).toBe('2 out of 3 ports accessible, 1 of them verified by the challenge');
  });

  it('probes separately for each challenge: one token never verifies a check that sent another, or none', async () => {
    const [mine, theirs] = [createChallenge(), createChallenge()];
    const [port] = await closedPorts(1);
    // Sends `mine` only once three probes have connected: a probe shared between the three
    // checks would make this listener wait, and the first check would not be verified.
    const sockets: Socket[] = [];
    const listener = createServer((socket) => {
      socket.on('error', () => {});
      sockets.push(socket);
      if (sockets.length === 3) for (const each of sockets) each.end(mine);
    });
    listener.listen(port, '127.0.0.1');
    await once(listener, 'listening');
    try {
      const [withMine, withTheirs, without] = await Promise.all([
        service.check({ provider_ip: '127.0.0.1', ports: [port], challenge: mine }),
        service.check({ provider_ip: '127.0.0.1', ports: [port], challenge: theirs }),
        service.check({ provider_ip: '127.0.0.1', ports: [port] }),
      ]);

      expect(withMine.body.results[port!]).toMatchObject({ accessible: true, verified: true, verify_error: null });
      expect(withTheirs.body.results[port!]).toMatchObject({
        accessible: true,
        verified: false,
        verify_error: 'Received data without the challenge',
      });
      expect(without.body.results[port!]).toEqual(expect.not.objectContaining({ verified: expect.anything() }));
      expect(without.body.results[port!]!.accessible).toBe(true);
      expect(sockets).toHaveLength(3);
    } finally {
      listener.close();
    }
  });

  it('keeps the answer without verification fields when no challenge is sent', async () => {
    const { body } = await service.check({ provider_ip: '127.0.0.1', ports: other.ports });
    expect(Object.keys(body.results[other.ports[0]!]!)).toEqual(['accessible', 'error', 'state', 'attempts', 'latency_ms']);
  });

  it('logs how many ports were verified, never the token', async () => {
    const challenge = createChallenge();
    const before = service.apiLogs.lines.length;
    await service.check({ provider_ip: '127.0.0.1', ports: other.ports, challenge });
    const lines = service.apiLogs.lines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ path: '/check-ports', status: 200, ports: 1, accessible: 1, verified: 0 });
    expect(JSON.stringify([...service.apiLogs.lines, ...service.workerLogs.lines])).not.toContain(challenge);
  });

  it.each([
    ['too short', 'abc123'],
    ['too long', 'a'.repeat(65)],
    ['not URL-safe', 'abcdefgh/ijklmnop+'],
    ['not a string', 1234567890123456],
  ])('refuses a challenge that is %s, enqueueing nothing', async (_name, challenge) => {
    const jobsBefore = await service.jobCount();
    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: [7466], challenge });
    expect(status).toBe(400);
    expect(ErrorResponse.parse(body)).toEqual({ detail: { code: 'INVALID_REQUEST', message: expect.stringContaining('challenge') } });
    expect(await service.jobCount()).toBe(jobsBefore);
  });
});

describe('what a probe does at the target', () => {
  it.each([
    ['without a challenge', undefined, undefined],
    ['with a challenge', createChallenge(), 'Challenge not received within 2000 ms'],
  ])('sends nothing %s, and a silent listener is let go within 2 s', async (_name, challenge, verifyError) => {
    const target = await recordingListener();
    try {
      const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: [target.port], ...(challenge && { challenge }) });

      expect(status).toBe(200);
      expect(body.results[target.port]!.accessible).toBe(true);
      // Without a challenge the answer carries no verify_error at all.
      expect(body.results[target.port]!.verify_error).toBe(verifyError);
      const [connection] = await target.connections(1);
      expect(connection!.received).toBe('');
      // The bound is the behaviour. With a challenge: let go at the 2 s cap, not at the 6 s probe
      // timeout (4.5 s: 2.5 s of slack, 1.5 s short of the timeout). Without one: at once (ms), not
      // after waiting the 2 s cap for a token (1.5 s: seconds of slack for a loaded machine).
      expect(connection!.openMs).toBeLessThan(challenge ? 4500 : 1500);
    } finally {
      await target.close();
    }
  });

  it('hangs up at once on a listener that sends something other than the token, and sends nothing', async () => {
    const target = await recordingListener((socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
    try {
      const { body } = await service.check({ provider_ip: '127.0.0.1', ports: [target.port], challenge: createChallenge() });

      expect(body.results[target.port]).toMatchObject({ accessible: true, verified: false, verify_error: 'Received data without the challenge' });
      const [connection] = await target.connections(1);
      expect(connection!.received).toBe('');
    } finally {
      await target.close();
    }
  });

  it("refuses a challenge for an address other than the caller's with 403 FORBIDDEN_TARGET, enqueueing nothing", async () => {
    const jobsBefore = await service.jobCount();
    const { status, body } = await service.check({ provider_ip: '::1', ports: [7466], challenge: createChallenge() });

    expect(status).toBe(403);
    expect(body.detail).toEqual({
      code: 'FORBIDDEN_TARGET',
      message: expect.stringContaining('a challenge is only checked at the address the request comes from (127.0.0.1), not ::1'),
    });
    expect(await service.jobCount()).toBe(jobsBefore);
  });
});
