import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, plainHttpListener, selfSigned, tlsListener, type Listener, type TestCa } from '../support/certificates.js';
import { closedPorts, filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { spawnApp, type AppProcess } from '../support/processes.js';
import { BUDGETS_AT_DEFAULTS, redisUrlOf, startService, type Service } from '../support/service.js';

/**
 * Today's Golem provider starting against this checker, as its source does it (vm-on-golem,
 * provider-server/provider/network_setup/service.py): one POST /check-ports per port, 8 in flight,
 * 8 s each, any non-200 or timeout a failed start; then POST /check-tls for its HTTPS port. Every
 * setting at its default (budgets included), but local targets allowed: everything is on 127.0.0.1.
 */
const PROVIDER_TIMEOUT_MS = 8000;
const IN_FLIGHT = 8;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  elapsedMs: number;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, elapsedMs: performance.now() - started };
}

/** One single-port check per port, at most 8 in flight, as the provider runs them. */
async function providerStart(url: string, ports: number[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ports.length) {
      const port = ports[next++]!;
      answers.push(await post(`${url}/check-ports`, { provider_ip: '127.0.0.1', ports: [port] }));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return answers;
}

const accessible = (answer: Answer): unknown => (answer.body.results as Record<string, { accessible: boolean }>)[
  String(Object.keys(answer.body.results as object)[0])
]?.accessible;

describe("today's Golem provider, with default settings", () => {
  let ca: TestCa;
  let service: Service;
  let worker: AppProcess;
  let vmPorts: Ports;
  const listeners: Listener[] = [];
  beforeAll(async () => {
    ca = await createTestCa();
    service = await startService({ env: BUDGETS_AT_DEFAULTS, workers: 0 });
    // A worker process of its own, so that it trusts the test's CA as an operator's private CA
    // would be trusted: through NODE_EXTRA_CA_CERTS, which Node reads at start.
    worker = spawnApp('worker', {
      REDIS_URL: redisUrlOf(service.config),
      PORT_CHECKER_QUEUE: service.config.queueName,
      PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
      PORT_CHECKER_HOST: '127.0.0.1',
      PORT_CHECK_WORKER_METRICS_PORT: '0',
      NODE_EXTRA_CA_CERTS: ca.file,
    });
    await worker.waitForLine((line) => line.msg === 'worker started');
    vmPorts = await openPorts(102); // 80 and 443 stand-ins, and 50800-50899
  });
  afterAll(async () => {
    await worker?.stop();
    await service?.stop();
    await vmPorts?.close();
    await Promise.all(listeners.map((listener) => listener.close()));
    ca?.remove();
  });

  it('starts twice in a row: 2 × 102 single-port checks, 8 at a time, every one 200 and accessible within 8 s', { timeout: 60_000 }, async () => {
    for (const start of [1, 2]) {
      const answers = await providerStart(service.url, vmPorts.ports);

      expect(answers, `start ${start}`).toHaveLength(102);
      expect(answers.filter((answer) => answer.status !== 200).map((answer) => answer.body), `start ${start}`).toEqual([]);
      expect(answers.every((answer) => accessible(answer) === true)).toBe(true);
      // The bound is the provider's own: past 8 s its start fails. An open port answers in ms, so
      // the margin is seconds; a later answer would also have been aborted by post()'s signal.
      expect(Math.max(...answers.map((answer) => answer.elapsedMs))).toBeLessThan(PROVIDER_TIMEOUT_MS);
    }
  });

  it('hears of a closed and of a filtered port as 200 with accessible: false, before its 8 s run out', { timeout: 20_000 }, async () => {
    const [closed] = await closedPorts(1);
    const filtered = await filteredPorts(1);
    try {
      const [closedAnswer, filteredAnswer] = await providerStart(service.url, [closed!, filtered.ports[0]!]).then((answers) =>
        answers.sort((a, b) => a.elapsedMs - b.elapsedMs),
      );

      expect(closedAnswer).toMatchObject({ status: 200, body: { results: { [closed!]: { accessible: false, state: 'closed' } } } });
      // The default 5 s attempt, and no retry that would not end before the 7 s deadline.
      expect(filteredAnswer).toMatchObject({
        status: 200,
        body: { results: { [filtered.ports[0]!]: { accessible: false, state: 'filtered', attempts: 1, error: 'Connection timed out' } } },
      });
      // The 5 s attempt waited out; answered by then, within the provider's 8 s (its own bound, the
      // behaviour under test): ~3 s of margin, the real one a provider has against this checker.
      expect(filteredAnswer!.elapsedMs).toBeGreaterThanOrEqual(4900);
      expect(filteredAnswer!.elapsedMs).toBeLessThan(PROVIDER_TIMEOUT_MS);
    } finally {
      await filtered.close();
    }
  });

  describe('POST /check-tls', () => {
    const checkTls = async (port: number, expectedIp: string | null = '127.0.0.1') =>
      post(`${service.url}/check-tls`, { host: '127.0.0.1', port, ...(expectedIp !== null && { expected_ip: expectedIp }) });
    const serve = async (listener: Promise<Listener>): Promise<number> => {
      const started = await listener;
      listeners.push(started);
      return started.port;
    };

    it('is valid for a certificate of a trusted CA that names the expected IP', async () => {
      const port = await serve(ca.issue(['127.0.0.1']).then(tlsListener));
      const answer = await checkTls(port);
      expect(answer).toMatchObject({ status: 200, body: { valid: true, error: null, peer: `127.0.0.1:${port}` } });
      expect(Date.parse(answer.body.not_after as string)).toBeGreaterThan(Date.now());
      expect(answer.body.not_after).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(Object.keys(answer.body).sort()).toEqual(['error', 'not_after', 'peer', 'valid']);
    });

    it('is not valid for a certificate of another IP, and says so', async () => {
      const port = await serve(ca.issue(['127.0.0.2']).then(tlsListener));
      expect(await checkTls(port)).toMatchObject({
        status: 200,
        body: { valid: false, error: 'certificate does not match expected IP', not_after: expect.any(String) },
      });
      // Without expected_ip, the address is not compared.
      expect((await checkTls(port, null)).body).toMatchObject({ valid: true, error: null });
    });

    it('is not valid for an expired certificate', async () => {
      const expired = { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) };
      const port = await serve(ca.issue(['127.0.0.1'], expired).then(tlsListener));
      const answer = await checkTls(port);
      expect(answer).toMatchObject({ status: 200, body: { valid: false, error: 'certificate expired' } });
      expect(Date.parse(answer.body.not_after as string)).toBeLessThan(Date.now());
    });

    it('is not valid for a certificate no trusted CA signed, with the TLS library\'s reason', async () => {
      const port = await serve(selfSigned(['127.0.0.1']).then(tlsListener));
      expect(await checkTls(port)).toMatchObject({
        status: 200,
        body: { valid: false, error: 'certificate not trusted: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' },
      });
    });

    it('is not valid for plain TCP or a closed port, with no certificate', async () => {
      const plain = await serve(plainHttpListener());
      const [closed] = await closedPorts(1);

      const plainAnswer = await checkTls(plain);
      const closedAnswer = await checkTls(closed!);

      expect(plainAnswer).toMatchObject({ status: 200, body: { valid: false, error: 'not TLS: the port answered in another protocol', not_after: null } });
      expect(closedAnswer).toMatchObject({ status: 200, body: { valid: false, error: 'connection refused', not_after: null, peer: `127.0.0.1:${closed}` } });
    });

    it('refuses bad input with this service\'s error shape, before anything is enqueued', async () => {
      const before = await service.jobCount();
      const answers = await Promise.all([
        post(`${service.url}/check-tls`, { host: 'example.com', port: 443 }),
        post(`${service.url}/check-tls`, { host: '127.0.0.1', port: 70_000 }),
        post(`${service.url}/check-tls`, { host: '127.0.0.1', port: 443, expected_ip: '127.1' }),
        post(`${service.url}/check-tls`, [1]),
      ]);
      expect(answers.map((answer) => [answer.status, (answer.body.detail as { code: string }).code])).toEqual([
        [400, 'INVALID_IP'],
        [400, 'INVALID_PORT'],
        [400, 'INVALID_IP'],
        [400, 'INVALID_REQUEST'],
      ]);
      expect(await service.jobCount()).toBe(before);
    });
  });
});

describe('the older Golem provider, with default settings', () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService({ env: BUDGETS_AT_DEFAULTS });
  });
  afterAll(() => service?.stop());

  it('checks 100 ports, one filtered and one closed among them, in one request answered 200 within its 30 s', { timeout: 40_000 }, async () => {
    const open = await openPorts(98);
    const [closed] = await closedPorts(1);
    const filtered = await filteredPorts(1);
    try {
      const ports = [...open.ports, closed!, filtered.ports[0]!];
      const started = performance.now();
      const response = await fetch(`${service.url}/check-ports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider_ip: '127.0.0.1', ports }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await response.json()) as { results: Record<string, { accessible: boolean }> };

      expect(response.status).toBe(200);
      // The older provider's own 30 s (the signal above enforces it too); expected ~5 s, the one
      // filtered port's attempt: 25 s of margin.
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(ports.map((port) => body.results[String(port)]!.accessible)).toEqual([...open.ports.map(() => true), false, false]);
    } finally {
      await Promise.all([open.close(), filtered.close()]);
    }
  });
});
