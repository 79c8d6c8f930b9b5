import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts, filteredPorts, openPorts, type Host, type Ports } from '../../../test/support/listeners.js';
import { probeTcp } from '../src/probe-tcp.js';

const hosts: Host[] = ['127.0.0.1', '::1'];
let listeners: Ports | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

describe.each(hosts)('probeTcp on %s', (host) => {
  it('reports a listening port as open, with the handshake time', async () => {
    listeners = await openPorts(1, host);
    const result = await probeTcp(host, listeners.ports[0]!, { timeoutMs: 1000 });
    expect(result).toEqual({ state: 'open', error: null, latencyMs: expect.any(Number) });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a refused port as closed', async () => {
    const [port] = await closedPorts(1, host);
    expect(await probeTcp(host, port!, { timeoutMs: 1000 })).toEqual({
      state: 'closed',
      error: 'Connection refused',
      latencyMs: null,
    });
  });

  it('reports a port that never answers as filtered after the timeout', async () => {
    listeners = await filteredPorts(1, host);
    const started = performance.now();
    const result = await probeTcp(host, listeners.ports[0]!, { timeoutMs: 200 });
    const elapsed = performance.now() - started;
    expect(result).toEqual({ state: 'filtered', error: 'Connection timed out', latencyMs: null });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(1500);
  });
});

describe('probeTcp', () => {
  it('stops waiting when its signal aborts', async () => {
    listeners = await filteredPorts(1);
    const controller = new AbortController();
    const pending = probeTcp('127.0.0.1', listeners.ports[0]!, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ state: 'filtered' });
  });
});
