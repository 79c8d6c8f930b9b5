import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts, openPorts, readFrom, type Ports } from '../../../test/support/listeners.js';
import { bindTemporaryListeners, type TemporaryListeners } from '../src/temporary-listeners.js';

const challenge = 'dGhpcyBpcyB0aGUgbWFjaGluZQ';
let listeners: TemporaryListeners | undefined;
let others: Ports | undefined;
afterEach(async () => {
  await listeners?.close();
  await others?.close();
  listeners = others = undefined;
});

describe('bindTemporaryListeners', () => {
  it('listens on every free port and sends the challenge to whoever connects', async () => {
    const ports = await closedPorts(2);
    listeners = await bindTemporaryListeners(ports, { challenge, host: '127.0.0.1' });

    expect([...listeners.bindings]).toEqual(ports.map((port) => [port, { binding: 'bound', error: null }]));
    expect(await readFrom(ports[0]!)).toBe(challenge);
    expect(await readFrom(ports[1]!)).toBe(challenge);
  });

  it('leaves a port that another process serves alone', async () => {
    others = await openPorts(1);
    const [free] = await closedPorts(1);
    listeners = await bindTemporaryListeners([others.ports[0]!, free!], { challenge, host: '127.0.0.1' });

    expect(listeners.bindings.get(others.ports[0]!)).toEqual({ binding: 'in-use', error: expect.stringContaining('EADDRINUSE') });
    expect(listeners.bindings.get(free!)!.binding).toBe('bound');
    await listeners.close();
    expect(await readFrom(others.ports[0]!)).toBe(''); // still the other listener's: it hangs up at once
  });

  it('sees a port held on one address as in use when binding every interface', async () => {
    others = await openPorts(1);
    listeners = await bindTemporaryListeners(others.ports, { challenge });
    expect(listeners.bindings.get(others.ports[0]!)!.binding).toBe('in-use');
  });

  it("reports an address this machine does not have as the binding's error", async () => {
    const [port] = await closedPorts(1);
    listeners = await bindTemporaryListeners([port!], { challenge, host: '192.0.2.1' });
    expect(listeners.bindings.get(port!)).toEqual({ binding: 'error', error: expect.stringContaining('EADDRNOTAVAIL') });
  });

  it('closes every listener and every connection still open, once however often it is called', async () => {
    const ports = await closedPorts(2);
    listeners = await bindTemporaryListeners(ports, { challenge, host: '127.0.0.1' });
    // A client that never hangs up: its connection must not keep a listener open.
    const lingering = connect({ host: '127.0.0.1', port: ports[0]!, allowHalfOpen: true });
    await once(lingering, 'data');

    await Promise.all([listeners.close(), listeners.close()]);

    lingering.destroy();
    const refused = connect({ host: '127.0.0.1', port: ports[1]! });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });
});
