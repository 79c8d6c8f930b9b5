import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts, filteredPorts, openPortAt, openPorts, type Ports } from '../../../test/support/listeners.js';
import { probePort } from '../src/probe-port.js';

const settings = { maxAttempts: 3, retryDelayMs: 100, timeoutMs: 150, retryRefused: false };
let listeners: Ports[] = [];
afterEach(async () => {
  await Promise.all(listeners.map((l) => l.close()));
  listeners = [];
});

describe('probePort', () => {
  it('stops at the first success', async () => {
    const open = await openPorts(1);
    listeners.push(open);
    expect(await probePort('127.0.0.1', open.ports[0]!, settings)).toMatchObject({ state: 'open', attempts: 1 });
  });

  it('takes a refusal as final by default', async () => {
    const [port] = await closedPorts(1);
    expect(await probePort('127.0.0.1', port!, settings)).toMatchObject({ state: 'closed', attempts: 1 });
  });

  it('retries refusals when told to, the delay apart', async () => {
    const [port] = await closedPorts(1);
    const started = performance.now();
    const result = await probePort('127.0.0.1', port!, { ...settings, retryRefused: true });
    expect(result).toMatchObject({ state: 'closed', attempts: 3, error: 'Connection refused' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * settings.retryDelayMs - 5);
  });

  it('retries timeouts, each limited to the timeout, the delay apart', async () => {
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    const started = performance.now();
    const result = await probePort('127.0.0.1', filtered.ports[0]!, settings);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ state: 'filtered', attempts: 3, error: 'Connection timed out' });
    // Three attempts of the full timeout and two delays at least (a busy machine only adds); an
    // attempt not limited to the timeout would run into the test timeout (the kernel's is ~2 min).
    const worstCase = 3 * settings.timeoutMs + 2 * settings.retryDelayMs;
    expect(elapsed).toBeGreaterThanOrEqual(worstCase - 10);
  });

  it('ends an accessible port that starts listening after the first attempt', async () => {
    const [port] = await closedPorts(1);
    const result = await probePort('127.0.0.1', port!, {
      ...settings,
      retryRefused: true,
      onAttempt: (_result, attempt) => {
        if (attempt === 1) void openPortAt(port!).then((l) => listeners.push(l));
      },
    });
    expect(result).toMatchObject({ state: 'open', attempts: 2 });
  });

  it('ends an attempt at the deadline, without waiting out the timeout or the retries', async () => {
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    const started = performance.now();
    const result = await probePort('127.0.0.1', filtered.ports[0]!, {
      ...settings,
      timeoutMs: 10_000,
      deadline: Date.now() + 300,
    });
    expect(result).toMatchObject({ state: 'filtered', attempts: 1 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    // The bound is the behaviour: ended at the 300 ms deadline, not by the 10 s timeout. Half the
    // timeout still tells the two apart, with seconds of slack for a loaded machine.
    expect(elapsed).toBeLessThan(5000);
  });

  it('makes no retry that would not get its shortest useful time before the deadline', async () => {
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    // Defaults of the service: 5 s attempts, 1 s apart; the deadline leaves room for one attempt
    // and the delay, but not for a second attempt of at least SHORTEST_ATTEMPT_MS.
    const timeoutMs = 400;
    const result = await probePort('127.0.0.1', filtered.ports[0]!, {
      maxAttempts: 3,
      retryDelayMs: 200,
      timeoutMs,
      retryRefused: false,
      deadline: Date.now() + timeoutMs + 200 + 300,
    });
    // One attempt: a retry, whenever it ended, would make it 2 (no clock needed to tell).
    expect(result).toMatchObject({ state: 'filtered', attempts: 1, error: 'Connection timed out' });
  });
});
