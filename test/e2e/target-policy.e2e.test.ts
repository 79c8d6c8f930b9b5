import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../support/service.js';

// No worker runs in this file: whatever the API let through could never be probed.
let service: Service;
beforeAll(async () => {
  service = await startService({ env: { PORT_CHECKER_ALLOW_LOCAL_IPS: 'false' }, workers: 0 });
});
afterAll(() => service?.stop());

describe('target policy (the default: public addresses only)', () => {
  it.each([
    '127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '203.0.113.7', '198.51.100.1', '192.0.2.1', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fd00::1', '::ffff:192.168.0.1', '64:ff9b::808:808', '2001:db8::1', '2002:a00:1::',
  ])('refuses %s with 403 FORBIDDEN_TARGET before enqueueing anything', async (target) => {
    const { status, body } = await service.check({ provider_ip: target, ports: [22, 7466] });
    expect(status).toBe(403);
    expect(body.detail.code).toBe('FORBIDDEN_TARGET');
    expect(body.detail.message).toMatch(/not a public address/);
    expect(await service.jobCount()).toBe(0);
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fd00::1'])(
    'refuses a TLS check of %s with 403 FORBIDDEN_TARGET before enqueueing anything',
    async (target) => {
      const response = await fetch(`${service.url}/check-tls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ host: target, port: 443, expected_ip: target }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { detail: { code: string } }).detail.code).toBe('FORBIDDEN_TARGET');
      expect(await service.jobCount()).toBe(0);
    },
  );

  it("refuses the caller's own loopback address when provider_ip is omitted", async () => {
    const { status, body } = await service.check({ ports: [7466] });
    expect(status).toBe(403);
    expect(body.detail.code).toBe('FORBIDDEN_TARGET');
    expect(await service.jobCount()).toBe(0);
  });
});

describe('PORT_CHECKER_DENY_CIDRS', () => {
  // Local targets allowed, so that only the deny-list can refuse these loopback addresses; no worker.
  let denying: Service;
  beforeAll(async () => {
    // 127.0.0.4 in IPv4-mapped form, as an operator may copy it from a dual-stack socket's log.
    const deny = '127.0.0.2/32, 127.0.1.0/24,::1/128, ::ffff:127.0.0.4/128';
    denying = await startService({ env: { PORT_CHECKER_DENY_CIDRS: deny, PORT_CHECK_DEADLINE: '1' }, workers: 0 });
  });
  afterAll(() => denying?.stop());

  it.each(['127.0.0.2', '127.0.1.200', '::ffff:127.0.0.2', '::1', '127.0.0.4', '::ffff:127.0.0.4'])('refuses %s with 403 FORBIDDEN_TARGET, enqueueing nothing', async (target) => {
    const { status, body } = await denying.check({ provider_ip: target, ports: [7466] });
    expect(status).toBe(403);
    expect(body.detail).toEqual({ code: 'FORBIDDEN_TARGET', message: expect.stringMatching(/its operator excludes it \(PORT_CHECKER_DENY_CIDRS\)$/) });
    expect(await denying.jobCount()).toBe(0);
  });

  it('lets an address outside the list through to the queue', async () => {
    const answer = denying.check({ provider_ip: '127.0.0.3', ports: [7466] }); // no worker: stays queued
    await expect.poll(() => denying.jobCount()).toBe(1);
    expect((await answer).status).toBe(503);
  });
});
