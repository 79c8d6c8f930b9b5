import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts, filteredPorts, openPorts, type Host, type Ports } from '../../../test/support/listeners.js';
import { attemptTcp } from '../src/tcp-attempt.js';

const hosts: Host[] = ['127.0.0.1', '::1'];
let listeners: Ports | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

describe.each(hosts)('attemptTcp on %s', (host) => {
  it('reports a listening port as open, with the handshake time', async () => {
    listeners = await openPorts(1, host);
    const result = await attemptTcp(host, listeners.ports[0]!, { timeoutMs: 1000 });
    expect(result).toEqual({ state: 'open', error: null, latencyMs: expect.any(Number) });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a refused port as closed', async () => {
    const [port] = await closedPorts(1, host);
    expect(await attemptTcp(host, port!, { timeoutMs: 1000 })).toEqual({
      state: 'closed',
      error: 'Connection refused',
      latencyMs: null,
    });
  });

  it('reports a port that never answers as filtered after the timeout', async () => {
    listeners = await filteredPorts(1, host);
    const started = performance.now();
    const result = await attemptTcp(host, listeners.ports[0]!, { timeoutMs: 200 });
    const elapsed = performance.now() - started;
    expect(result).toEqual({ state: 'filtered', error: 'Connection timed out', latencyMs: null });
    // Waited the timeout out (a lower bound: a busy machine only makes it longer). The error says
    // the timer ended it; a connect left to the kernel would run ~2 min, into the test timeout.
    expect(elapsed).toBeGreaterThanOrEqual(195);
  });
});

describe('attemptTcp', () => {
  it('stops waiting when its signal aborts', async () => {
    listeners = await filteredPorts(1);
    const controller = new AbortController();
    const pending = attemptTcp('127.0.0.1', listeners.ports[0]!, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ state: 'filtered' });
  });
});

describe('attemptTcp from a source address', () => {
  it("leaves from the vantage's address: the listener sees it as the peer", async () => {
    const server = createServer((socket) => socket.on('error', () => {})); // the probe closes with a reset
    const peer = new Promise((resolve) => server.once('connection', (socket: Socket) => resolve(socket.remoteAddress)));
    server.listen({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    try {
      const result = await attemptTcp('127.0.0.1', (server.address() as AddressInfo).port, { timeoutMs: 1000, localAddress: '127.0.0.3' });
      expect(result.state).toBe('open');
      expect(await peer).toBe('127.0.0.3');
    } finally {
      server.close();
    }
  });
});

describe('attemptTcp with a challenge', () => {
  const challenge = 'c2hhbGxuZXZlcmJlZ3Vlc3NlZA';
  let server: Server | undefined;
  /** One per accepted connection: resolves when it closes, true if the peer reset it. */
  let closed: Promise<boolean>[] = [];
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
    closed = [];
  });

  /** A listener that runs `onSocket` on every connection and remembers when each one closes. */
  async function serve(onSocket: (socket: Socket) => void): Promise<number> {
    server = createServer((socket) => {
      let reset = false;
      socket.on('error', (err: NodeJS.ErrnoException) => (reset = err.code === 'ECONNRESET'));
      closed.push(new Promise((resolve) => socket.once('close', () => resolve(reset))));
      onSocket(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('reports verified when the listener sends the token on accept', async () => {
    const port = await serve((socket) => socket.end(challenge));
    expect(await attemptTcp('127.0.0.1', port, { timeoutMs: 1000, challenge })).toEqual({
      state: 'open',
      error: null,
      latencyMs: expect.any(Number),
      verified: true,
      verifyError: null,
    });
  });

  it('finds a token that arrives in pieces', async () => {
    const port = await serve((socket) => {
      socket.write(challenge.slice(0, 5));
      setImmediate(() => socket.write(challenge.slice(5)));
    });
    expect(await attemptTcp('127.0.0.1', port, { timeoutMs: 1000, challenge })).toMatchObject({ verified: true });
  });

  it.each<[string, (socket: Socket) => void, string]>([
    ['hangs up without the token', (socket) => socket.end(), 'Connection closed without the challenge'],
    ['sends other bytes first', (socket) => socket.write(`hello ${challenge}`), 'Received data without the challenge'],
    ['sends part of the token, then something else', (socket) => socket.write(`${challenge.slice(0, 5)}x`), 'Received data without the challenge'],
    [
      'resets the connection',
      // Long after the handshake on loopback: a reset before the client saw it would be a failed connect.
      (socket) => setTimeout(() => socket.resetAndDestroy(), 300),
      'Connection failed before the challenge arrived: ECONNRESET',
    ],
  ])('reports open but not verified, with the reason, when the listener %s', async (_name, onSocket, verifyError) => {
    const port = await serve(onSocket);
    expect(await attemptTcp('127.0.0.1', port, { timeoutMs: 5000, challenge })).toEqual({
      state: 'open',
      error: null,
      latencyMs: expect.any(Number),
      verified: false,
      verifyError,
    });
  });

  it('waits at most the timeout for a listener that stays silent', async () => {
    const port = await serve(() => {});
    const started = performance.now();
    const result = await attemptTcp('127.0.0.1', port, { timeoutMs: 200, challenge });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ state: 'open', verified: false, verifyError: 'Challenge not received within 200 ms' });
    // Waited the timeout out; the error says its timer ended the wait (else: the test timeout).
    expect(elapsed).toBeGreaterThanOrEqual(195);
  });

  it('stops reading when its signal aborts', async () => {
    const port = await serve(() => {});
    // The handshake on loopback takes well under the 300 ms before the abort. The error names the
    // abort as what ended the wait; without it the 60 s timeout would run into the test timeout.
    const result = await attemptTcp('127.0.0.1', port, { timeoutMs: 60_000, signal: AbortSignal.timeout(300), challenge });
    expect(result).toMatchObject({ state: 'open', verified: false, verifyError: 'Stopped waiting for the challenge: the check ended' });
  });

  it('leaves no socket or timer behind, and resets every connection it opened', async () => {
    const handles = (): string[] =>
      process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'Timeout');
    const silent = await serve(() => {});
    const before = handles().length;

    const results = await Promise.all([
      attemptTcp('127.0.0.1', silent, { timeoutMs: 100, challenge }),
      attemptTcp('127.0.0.1', silent, { timeoutMs: 60_000 }),
      attemptTcp('127.0.0.1', silent, { timeoutMs: 60_000, signal: AbortSignal.timeout(300), challenge }),
    ]);
    expect(results.map((r) => r.state)).toEqual(['open', 'open', 'open']);
    // Every connection ends with a reset from the probe's side, not a FIN that leaves TIME_WAIT.
    expect(await Promise.all(closed)).toEqual([true, true, true]);
    // Handles close on a later turn of the event loop; a leak would stay for 60 s.
    for (let turn = 0; turn < 20 && handles().length > before; turn += 1) await nextTurn();

    expect(handles().length).toBeLessThanOrEqual(before);
  });
});
