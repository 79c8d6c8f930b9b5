import { afterEach, describe, expect, it } from 'vitest';
import { startService, type Service } from '../support/service.js';

// No worker runs here: admitted jobs stay waiting, which is the overload being simulated.
let service: Service | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

const ports = (count: number, from = 20_000): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('overload', () => {
  it('turns requests away at once with 503 and Retry-After once the backlog passes PORT_CHECK_MAX_BACKLOG', async () => {
    service = await startService({ env: { PORT_CHECK_MAX_BACKLOG: '10', PORT_CHECK_DEADLINE: '3' }, workers: 0 });
    const admitted = service.check({ provider_ip: '127.0.0.1', ports: ports(20) });
    let admittedAnswered = false;
    void admitted.then(() => (admittedAnswered = true));
    await expect.poll(() => service!.jobCount()).toBe(20);

    const refused = await service.check({ provider_ip: '127.0.0.1', ports: ports(5, 30_000) });

    expect(refused.status).toBe(503);
    expect(refused.body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('overloaded') });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // At once, not after waiting like the admitted check: answered while that one still waits for
    // its 3 s deadline.
    expect(admittedAnswered).toBe(false);
    expect(await service.jobCount()).toBe(20);
    expect((await admitted).body.detail.code).toBe('CHECK_FAILED');
  });

  it('caps the ports one API process waits on', async () => {
    service = await startService({ env: { PORT_CHECKER_MAX_PORTS_IN_FLIGHT: '2', PORT_CHECK_MAX_PORTS: '2', PORT_CHECK_DEADLINE: '2' }, workers: 0 });
    const first = service.check({ provider_ip: '127.0.0.1', ports: [7465, 7466] });
    let firstAnswered = false;
    void first.then(() => (firstAnswered = true));
    await expect.poll(() => service!.jobCount()).toBe(2);

    const second = await service.check({ provider_ip: '127.0.0.1', ports: [7467] });

    expect(second.status).toBe(503);
    expect(second.body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('already waiting on 2 ports') });
    // Turned away at once, not queued behind the first: answered while the first still waits for
    // its 2 s deadline.
    expect(firstAnswered).toBe(false);
    expect((await first).status).toBe(503);
    // The slot is free again once the first request has ended: admitted, it waits for its deadline
    // (CHECK_FAILED, no worker) rather than being turned away (SERVICE_UNAVAILABLE).
    const third = await service.check({ provider_ip: '127.0.0.1', ports: [7468] });
    expect(third.body.detail.code).toBe('CHECK_FAILED');
  });

  it("gives one client network at most an eighth of a process's ports, so that a few networks cannot take them all", async () => {
    // 16 ports a process, 2 a network. Callers are identities in X-Forwarded-For: every target is 127.0.0.1, no worker.
    const env = { PORT_CHECKER_MAX_PORTS_IN_FLIGHT: '16', PORT_CHECK_MAX_PORTS: '2', PORT_CHECK_DEADLINE: '2', PORT_CHECKER_TRUST_PROXY: 'loopback' };
    service = await startService({ env, workers: 0 });
    const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });
    const first = service.check({ provider_ip: '127.0.0.1', ports: [7465, 7466] }, from('198.51.100.1'));
    await expect.poll(() => service!.jobCount()).toBe(2);

    const sameNetwork = await service.check({ provider_ip: '127.0.0.1', ports: [7467] }, from('198.51.100.2'));
    const otherNetwork = service.check({ provider_ip: '127.0.0.1', ports: [7468] }, from('203.0.113.1'));

    expect(sameNetwork.body.detail).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('198.51.100.0/24 already has 2 ports') });
    // Admitted: no worker, so it waits for its deadline and fails, never turned away.
    expect((await otherNetwork).body.detail.code).toBe('CHECK_FAILED');
    expect((await first).body.detail.code).toBe('CHECK_FAILED');
  });
});
