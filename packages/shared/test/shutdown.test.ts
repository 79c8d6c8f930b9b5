import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/log-capture.js';
import { idempotent, runShutdownSteps } from '../src/shutdown.js';

describe('runShutdownSteps', () => {
  it('runs every step in order, logs each, and reports the ones that failed at the end', async () => {
    const { logger, lines } = captureLogs('test');
    const ran: string[] = [];

    const result = runShutdownSteps(
      [
        { name: 'first', run: () => void ran.push('first') },
        { name: 'broken', run: () => Promise.reject(new Error('boom')) },
        { name: 'last', run: async () => void ran.push('last') },
      ],
      logger,
    );

    await expect(result).rejects.toThrow('shutdown steps failed: broken');
    expect(ran).toEqual(['first', 'last']);
    expect(lines.map((l) => [l.msg, l.step, l.level])).toEqual([
      ['shutdown step done', 'first', 30],
      ['shutdown step failed', 'broken', 50],
      ['shutdown step done', 'last', 30],
    ]);
    expect(lines[1]!.err).toMatchObject({ message: 'boom' });
  });

  it('gives up on a step that outlasts its timeout and goes on with the next', async () => {
    const { logger, lines } = captureLogs('test');
    let lastRan = false;

    const result = runShutdownSteps(
      [
        { name: 'hangs', run: () => new Promise(() => {}), timeoutMs: 50 },
        { name: 'last', run: () => void (lastRan = true) },
      ],
      logger,
    );

    // Settles at all (a step that never ends would hold it until the test timeout), by the timer:
    await expect(result).rejects.toThrow('hangs');
    expect(lastRan).toBe(true);
    expect(lines[0]).toMatchObject({ msg: 'shutdown step failed', step: 'hangs', err: { message: 'timed out after 50 ms' } });
  });
});

describe('idempotent', () => {
  it('runs the close once, however often it is called', async () => {
    let runs = 0;
    const close = idempotent(async () => void (runs += 1));
    await Promise.all([close(), close()]);
    await close();
    expect(runs).toBe(1);
  });
});
