import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { TrustProxy } from '@port-checker/shared';
import { trustProxyRisk } from '../../apps/api/src/http/trust-proxy-risk.js';
import { spawnApp, type AppProcess } from '../support/processes.js';

// PORT_CHECKER_TRUST_PROXY as a hop count (or true) on an API that anyone can reach directly lets
// any client choose its address with X-Forwarded-For. The API says so once, at start.
// The process below listens on 0.0.0.0 (the risky case) on a free port, for a second or two: this
// file sends it no request at all, and it talks only to the tests' own Redis on loopback.

describe('trustProxyRisk', () => {
  // Hop counts and true on anything but loopback; true anywhere (the client writes the first entry).
  it.each<[string, TrustProxy]>([
    ['0.0.0.0', 1],
    ['0.0.0.0', 2],
    ['::', 1],
    ['::', true],
    ['0.0.0.0', true],
    ['10.0.0.7', 1],
    ['203.0.113.9', 1],
    ['fe80::1%eth0', 1],
    ['localhost', 1],
    ['127.0.0.1', true],
    ['::1', true],
  ])('warns for %s with %s', (host, trustProxy) => {
    const warning = trustProxyRisk(host, trustProxy);
    expect(warning).toMatch(new RegExp(`^PORT_CHECKER_TRUST_PROXY=${String(trustProxy)}\\b.*X-Forwarded-For`));
    expect(warning).toContain('budgets, self-check, challenges');
    expect(warning).toContain("the proxy's address");
  });

  it('names the address listened on and the fix: listening on loopback', () => {
    expect(trustProxyRisk('0.0.0.0', 1)).toBe(
      'PORT_CHECKER_TRUST_PROXY=1 while the API listens on 0.0.0.0: a client that reaches it directly chooses its address ' +
        "with X-Forwarded-For (budgets, self-check, challenges); listen where only the proxy reaches it (PORT_CHECKER_HOST=127.0.0.1), or trust the proxy's address instead of a hop count",
    );
    expect(trustProxyRisk('::', true)).toMatch(/^PORT_CHECKER_TRUST_PROXY=true while the API listens on ::: .*PORT_CHECKER_HOST=127\.0\.0\.1/);
    expect(trustProxyRisk('127.0.0.1', true)).not.toContain('listens on');
  });

  // Only the proxy reaches a loopback listener; a list believes only its peers; false and 0 believe no one.
  it.each<[string, TrustProxy]>([
    ['127.0.0.1', 1],
    ['127.0.0.5', 2],
    ['::1', 1],
    ['::ffff:127.0.0.1', 1],
    ['0.0.0.0', ['loopback']],
    ['::', ['10.0.0.5', 'fd00::/8']],
    ['0.0.0.0', false],
    ['::', false],
    ['0.0.0.0', 0],
    ['127.0.0.1', false],
  ])('is silent for %s with %j', (host, trustProxy) => {
    expect(trustProxyRisk(host, trustProxy)).toBeUndefined();
  });
});

let api: AppProcess | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

describe('the API started with PORT_CHECKER_TRUST_PROXY on every interface', () => {
  it.each(['1', 'true'])('warns once, at start, naming the risk and the fix (TRUST_PROXY=%s)', async (trustProxy) => {
    api = spawnApp('api', {
      REDIS_URL: inject('redisUrl'),
      PORT_CHECKER_QUEUE: `test-${randomUUID()}`,
      PORT_CHECKER_HOST: '0.0.0.0',
      PORT_CHECKER_PORT: '0',
      PORT_CHECKER_ADMIN_PORT: '0',
      PORT_CHECKER_TRUST_PROXY: trustProxy,
    });

    await api.waitForLine((line) => line.msg === 'api listening');

    const warnings = api.lines.filter((line) => String(line.msg).includes('PORT_CHECKER_TRUST_PROXY'));
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringMatching(new RegExp(`^PORT_CHECKER_TRUST_PROXY=${trustProxy} while the API listens on 0\\.0\\.0\\.0: .*X-Forwarded-For.*PORT_CHECKER_HOST=127\\.0\\.0\\.1`)),
      }),
    ]);
  });
});
