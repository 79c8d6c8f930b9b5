import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
let open: Ports;
beforeAll(async () => {
  service = await startService();
  open = await openPorts(128);
});
afterAll(async () => {
  await service?.stop();
  await open?.close();
});

describe('a burst', () => {
  it('of 100 concurrent requests of 128 ports each (12,800 jobs) loses no result', { timeout: 60_000 }, async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => service.check({ provider_ip: '127.0.0.1', ports: open.ports })),
    );

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    for (const { body } of answers) {
      expect(Object.keys(body.results)).toHaveLength(128);
      expect(body.message).toBe('Successfully verified 128 out of 128 ports');
    }
  });
});
