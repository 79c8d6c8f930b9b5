import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPorts } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
let ports: number[];
beforeAll(async () => {
  // Older clients wait 30 s; a burst this size takes longer than the default 7 s on a small machine.
  // Every request from 127.0.0.1: its network's share (an eighth of the process's ports) must hold all 12,800.
  service = await startService({ env: { PORT_CHECK_DEADLINE: '30', PORT_CHECKER_MAX_PORTS_IN_FLIGHT: String(8 * 12_800) } });
  ports = await closedPorts(128);
});
afterAll(() => service?.stop());

describe('a burst', () => {
  it('of 100 concurrent requests of 128 ports each (12,800 jobs) loses no result', { timeout: 60_000 }, async () => {
    // A hundred different loopback targets, so that no two requests share a probe; nothing
    // listens there, and every connect is refused at once.
    const targets = Array.from({ length: 100 }, (_, i) => `127.0.${Math.floor(i / 250)}.${(i % 250) + 2}`);

    const answers = await Promise.all(targets.map((target) => service.check({ provider_ip: target, ports })));

    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    for (const [i, { body }] of answers.entries()) {
      expect(body.provider_ip).toBe(targets[i]);
      expect(Object.keys(body.results)).toHaveLength(128);
      expect(Object.values(body.results).every((r) => r.state === 'closed' && r.error === 'Connection refused')).toBe(true);
    }
    expect(await service.jobCount()).toBe(12_800);
  });
});
