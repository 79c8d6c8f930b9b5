import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestCa, tlsListener, type Listener, type TestCa } from '../support/certificates.js';
import { pnpmDeploy } from '../support/deploy.js';
import { closedPorts, openPorts, type Ports } from '../support/listeners.js';
import { scrape, valueOf } from '../support/metrics.js';
import { spawnApp, type AppProcess } from '../support/processes.js';
import { readRepoFile } from '../support/repo.js';

/**
 * What ships is what is tested: both apps from folders made by the Dockerfile's own `pnpm deploy` (the
 * systemd install runs the same), started as the images and the units start them: `node dist/main.js` in
 * that folder, NODE_ENV=production and the production heap limits. Every target is on 127.0.0.1.
 */
const work = mkdtempSync(join(tmpdir(), 'port-checker-deployed-'));
const redisUrl = inject('redisUrl');
const queueName = `test-${randomUUID()}`;
const { version } = JSON.parse(readRepoFile('apps/api/package.json')) as { version: string };

let api: AppProcess;
let worker: AppProcess;
let ca: TestCa;
let tls: Listener;
let open: Ports;
let apiUrl: string;
let apiMetricsUrl: string;
let workerMetricsUrl: string;

beforeAll(async () => {
  await Promise.all([pnpmDeploy('api', join(work, 'api')), pnpmDeploy('worker', join(work, 'worker'))]);
  ca = await createTestCa();
  [tls, open] = await Promise.all([ca.issue(['127.0.0.1']).then(tlsListener), openPorts(1)]);
  const [port, apiAdminPort, workerAdminPort] = await closedPorts(3);
  apiUrl = `http://127.0.0.1:${port}`;
  apiMetricsUrl = `http://127.0.0.1:${apiAdminPort}/metrics`;
  workerMetricsUrl = `http://127.0.0.1:${workerAdminPort}/metrics`;

  const env = { NODE_ENV: 'production', REDIS_URL: redisUrl, PORT_CHECKER_QUEUE: queueName, PORT_CHECKER_ALLOW_LOCAL_IPS: 'true' };
  api = spawnApp(
    'api',
    { ...env, PORT_CHECKER_HOST: '127.0.0.1', PORT_CHECKER_PORT: String(port), PORT_CHECKER_ADMIN_PORT: String(apiAdminPort) },
    { fromBuild: true, cwd: join(work, 'api'), entry: 'dist/main.js' },
  );
  // The test's CA, trusted as an operator's private CA would be: through NODE_EXTRA_CA_CERTS.
  worker = spawnApp(
    'worker',
    { ...env, PORT_CHECKER_ADMIN_PORT: String(workerAdminPort), NODE_EXTRA_CA_CERTS: ca.file },
    { fromBuild: true, cwd: join(work, 'worker'), entry: 'dist/main.js' },
  );
  await Promise.all([api.waitForLine((line) => line.msg === 'api listening'), worker.waitForLine((line) => line.msg === 'worker started')]);
}, 120_000);

afterAll(async () => {
  await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
  await Promise.all([tls?.close(), open?.close()]);
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  ca?.remove();
  rmSync(work, { recursive: true, force: true });
});

const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('the API and a worker, each started from its pnpm deploy folder', () => {
  it('serves the page, and every file it loads, from the folder\'s public/', async () => {
    const page = await fetch(`${apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<title>Can the internet reach my ports?');
    // The page's links, and the modules its script imports (./name.js, served under /assets/).
    const assets = new Set([...html.matchAll(/"\/assets\/([\w.-]+)"/g)].map((match) => match[1]!));
    for (const file of assets) {
      const script = await fetch(`${apiUrl}/assets/${file}`);
      expect(script.status, file).toBe(200);
      if (file.endsWith('.js')) for (const [, imported] of (await script.text()).matchAll(/from '\.\/([\w.-]+)'/g)) assets.add(imported!);
    }
    expect([...assets]).toEqual(expect.arrayContaining(['style.css', 'favicon.svg', 'main.js', 'api-client.js']));
  });

  it('serves Swagger UI on /docs, from the folder\'s swagger-ui-dist', async () => {
    const docs = await fetch(`${apiUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await docs.text()).toContain('<div id="swagger-ui"></div>');
    expect((await fetch(`${apiUrl}/docs/swagger-ui-bundle.js`)).status).toBe(200);
    expect((await fetch(`${apiUrl}/openapi.json`)).status).toBe(200);
  });

  it('checks a loopback listener: POST /check-ports answers 200, accessible and open', async () => {
    const [port] = open.ports;
    const answer = await post('/check-ports', { provider_ip: '127.0.0.1', ports: [port] });
    expect(answer).toMatchObject({ status: 200, body: { provider_ip: '127.0.0.1', results: { [port!]: { accessible: true, state: 'open' } } } });
  });

  it('checks a local TLS server: POST /check-tls answers 200, valid', async () => {
    const answer = await post('/check-tls', { host: '127.0.0.1', port: tls.port, expected_ip: '127.0.0.1' });
    expect(answer).toMatchObject({ status: 200, body: { valid: true, error: null, peer: `127.0.0.1:${tls.port}` } });
  });

  it('serves /metrics on both admin listeners, with the release version and the checks just made', async () => {
    const [apiSamples, workerSamples] = await Promise.all([scrape(apiMetricsUrl), scrape(workerMetricsUrl)]);
    for (const samples of [apiSamples, workerSamples]) expect(valueOf(samples, 'port_checker_build_info', { version })).toBe(1);
    expect(valueOf(apiSamples, 'port_checker_workers')).toBeGreaterThan(0); // the worker's BullMQ workers, seen through Redis
    expect(valueOf(apiSamples, 'port_checker_ports_checked_total', { state: 'open' })).toBe(1);
    expect(valueOf(workerSamples, 'port_checker_probes_total', { state: 'open' })).toBe(1);
    expect(valueOf(workerSamples, 'port_checker_tls_probes_total', { valid: 'true' })).toBe(1);
  });

  it('stops on SIGTERM, each with exit code 0', async () => {
    await Promise.all([api.stop(), worker.stop()]);
    expect([api.child.exitCode, worker.child.exitCode]).toEqual([0, 0]);
  });
});
