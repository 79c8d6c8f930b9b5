import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPorts, type Ports } from '../support/listeners.js';
import type { Service } from '../support/service.js';
import { servicePerTest } from '../support/service-per-test.js';

// Checks that are let through probe 127.0.0.1 only. Tests that expect a refusal of any other
// address run with no worker, so nothing could be probed even if the refusal failed.
const TOKEN = 'test-token-0123456789abcdef';
const service = servicePerTest();
let open: Ports;
beforeAll(async () => {
  open = await openPorts(1);
});
afterAll(() => open?.close());

const start = (env: Record<string, string>, workers = 1): Promise<Service> => service.start({ env, workers });

describe('PORT_CHECKER_API_TOKEN', () => {
  it('answers 401 UNAUTHORIZED without a token and with a wrong one, and checks with the right one', async () => {
    const { check } = await start({ PORT_CHECKER_API_TOKEN: TOKEN });
    const body = { provider_ip: '127.0.0.1', ports: open.ports };

    const missing = await check(body);
    const unreadBody = await check('{"ports": [1'); // refused before its body is read
    const wrong = await check(body, { headers: { authorization: `Bearer ${TOKEN}x` } });
    const otherScheme = await check(body, { headers: { authorization: `Basic ${TOKEN}` } });
    const right = await check(body, { headers: { authorization: `Bearer ${TOKEN}` } });
    const lowerCase = await check(body, { headers: { authorization: `bearer ${TOKEN}` } });

    expect(missing.status).toBe(401);
    expect(missing.body.detail).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('Authorization: Bearer') });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(unreadBody.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail.code).toBe('UNAUTHORIZED');
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(otherScheme.status).toBe(401);
    expect(right.status).toBe(200);
    expect(right.body.results[open.ports[0]!]!.accessible).toBe(true);
    expect(lowerCase.status).toBe(200);
  });

  it('never writes the token, right or wrong, to the logs', async () => {
    const { check, apiLogs } = await start({ PORT_CHECKER_API_TOKEN: TOKEN });
    await check({ provider_ip: '127.0.0.1', ports: open.ports }, { headers: { authorization: `Bearer ${TOKEN}` } });
    await check({ provider_ip: '127.0.0.1', ports: open.ports }, { headers: { authorization: 'Bearer wrong-guess-0123456789' } });

    const written = JSON.stringify(apiLogs.lines);
    expect(apiLogs.lines.filter((line) => line.path === '/check-ports').map((line) => line.status)).toEqual([200, 401]);
    expect(written).not.toContain(TOKEN);
    expect(written).not.toContain('wrong-guess');
  });

  it('asks for it on /check-tls too, before reading the body', async () => {
    await start({ PORT_CHECKER_API_TOKEN: TOKEN }, 0);
    const checkTls = (headers: Record<string, string>) =>
      fetch(`${service.current.url}/check-tls`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"host": "127.0.0.1"' });
    const missing = await checkTls({});
    const right = await checkTls({ authorization: `Bearer ${TOKEN}` });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { detail: { code: string } }).detail.code).toBe('UNAUTHORIZED');
    expect(right.status).toBe(400); // past the token: the body is read, and it is not JSON
  });

  it("charges each refusal one port of the caller's budget, so that guessing is not free: past it, 429", async () => {
    const { check } = await start({ PORT_CHECKER_API_TOKEN: TOKEN, PORT_CHECKER_RATE_LIMIT_PORTS: '3', PORT_CHECKER_TRUST_PROXY: 'loopback' }, 0);
    const guess = (client: string) => check({ ports: [7466] }, { headers: { authorization: 'Bearer wrong-guess-0123456789', 'x-forwarded-for': client } });

    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await guess('198.51.100.20')).status);
    const someoneElse = await guess('198.51.100.21');

    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(someoneElse.status).toBe(401);
  });

  it('logs repeated 401s of one client once at info, the rest at debug only', async () => {
    const { check, apiLogs } = await start({ PORT_CHECKER_API_TOKEN: TOKEN }, 0);
    for (let i = 0; i < 5; i += 1) await check({ ports: [7466] });

    const refusals = apiLogs.lines.filter((line) => line.status === 401);
    expect(refusals.map((line) => line.level)).toEqual([30, 20, 20, 20, 20]); // pino: 30 info, 20 debug
  });

  it('leaves /health open', async () => {
    await start({ PORT_CHECKER_API_TOKEN: TOKEN }, 0);
    expect((await fetch(`${service.current.url}/health`)).status).toBe(200);
  });
});

describe('PORT_CHECKER_SELF_CHECK_ONLY', () => {
  it("refuses any address but the caller's with 403 FORBIDDEN_TARGET and enqueues nothing", async () => {
    const { check, jobCount } = await start({ PORT_CHECKER_SELF_CHECK_ONLY: 'true' }, 0);

    for (const target of ['127.0.0.2', '::1', '1.1.1.1']) {
      const { status, body } = await check({ provider_ip: target, ports: [7466] });
      expect(status).toBe(403);
      expect(body.detail.code).toBe('FORBIDDEN_TARGET');
      expect(body.detail.message).toContain(`only checks the address a request comes from (127.0.0.1), not ${target}`);
    }
    expect(await jobCount()).toBe(0);
  });

  it("checks the caller's own address, given in any spelling or left out", async () => {
    const { check } = await start({ PORT_CHECKER_SELF_CHECK_ONLY: 'true' });

    for (const body of [{}, { provider_ip: '127.0.0.1' }, { provider_ip: '::ffff:127.0.0.1' }]) {
      const answer = await check({ ...body, ports: open.ports });
      expect(answer.status).toBe(200);
      expect(answer.body.provider_ip).toBe('127.0.0.1');
    }
  });
});

describe('PORT_CHECKER_TRUST_PROXY', () => {
  // Public targets are refused here (local targets only allowed off), and the 403 names the
  // address the service took for the caller's; no worker runs.
  const callerSeen = async (headers: Record<string, string>): Promise<string> => {
    const { body } = await service.current.check({ ports: [7466] }, { headers });
    return body.detail.message;
  };

  it('is off by default: X-Forwarded-For is ignored and the socket is the caller', async () => {
    await start({ PORT_CHECKER_ALLOW_LOCAL_IPS: 'false' }, 0);
    expect(await callerSeen({ 'x-forwarded-for': '198.51.100.7' })).toMatch(/^127\.0\.0\.1 is not a public address/);
  });

  it('takes the client from X-Forwarded-For when the proxy is trusted, normalised', async () => {
    await start({ PORT_CHECKER_ALLOW_LOCAL_IPS: 'false', PORT_CHECKER_TRUST_PROXY: 'loopback' }, 0);
    expect(await callerSeen({ 'x-forwarded-for': '198.51.100.7' })).toMatch(/^198\.51\.100\.7 is not a public address/);
    expect(service.current.apiLogs.lines.at(-1)).toMatchObject({ path: '/check-ports', client: '198.51.100.7' });
    expect(await callerSeen({ 'x-forwarded-for': '::ffff:198.51.100.8' })).toMatch(/^198\.51\.100\.8 is not a public address/);
  });

  it('with a hop count, takes the address the last proxy saw, not one the client wrote before it', async () => {
    await start({ PORT_CHECKER_ALLOW_LOCAL_IPS: 'false', PORT_CHECKER_TRUST_PROXY: '1' }, 0);
    expect(await callerSeen({ 'x-forwarded-for': '192.0.2.1, 198.51.100.9' })).toMatch(/^198\.51\.100\.9 is not/);
  });

  it('refuses a request whose forwarded address is not an address', async () => {
    const { check } = await start({ PORT_CHECKER_TRUST_PROXY: 'loopback' }, 0);
    const { status, body } = await check({ provider_ip: '127.0.0.1', ports: [7466] }, { headers: { 'x-forwarded-for': 'not-an-ip' } });
    expect(status).toBe(400);
    expect(body.detail).toEqual({ code: 'INVALID_REQUEST', message: `cannot tell the caller's address: got "not-an-ip"` });
  });

  it('keys the per-client budget on the same address', async () => {
    // No worker: each check ends in a 503 CHECK_FAILED, which is refunded, so the budget is
    // spent only by the in-flight cap's refusal below; a 1-port check of the caller's own address.
    const { check } = await start({ PORT_CHECKER_TRUST_PROXY: 'loopback', PORT_CHECKER_RATE_LIMIT_PORTS: '1', PORT_CHECK_DEADLINE: '0.2' }, 0);
    const from = (client: string) => ({ headers: { 'x-forwarded-for': client } });
    const one = { provider_ip: '127.0.0.1', ports: [7466] };

    const first = await check(one, from('198.51.100.1'));
    const sameClient = await check({ ...one, ports: [7466, 7467] }, from('198.51.100.1'));
    const otherClient = await check({ ...one, ports: [7466, 7467] }, from('198.51.100.2'));

    expect(first.headers.get('ratelimit-remaining')).toBe('0');
    expect(sameClient.body.detail.message).toMatch(/^per-client limit: 198\.51\.100\.1 /);
    expect(otherClient.body.detail.message).toMatch(/^per-client limit: 198\.51\.100\.2 /);
  });
});

describe('every answer', () => {
  it('carries security headers and, by default, no CORS header: no website may call the API', async () => {
    await start({}, 0);
    for (const path of ['/health', '/nope']) {
      const response = await fetch(`${service.current.url}${path}`, { headers: { origin: 'https://a.example' } });
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const preflight = await fetch(`${service.current.url}/check-ports`, {
      method: 'OPTIONS',
      headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows only the origins listed in PORT_CHECKER_CORS_ORIGINS, and answers preflights without a token', async () => {
    await start({ PORT_CHECKER_CORS_ORIGINS: 'https://a.example', PORT_CHECKER_API_TOKEN: TOKEN }, 0);
    const preflight = (origin: string) =>
      fetch(`${service.current.url}/check-ports`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });

    const allowed = await preflight('https://a.example');
    const other = await preflight('https://b.example');

    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request bodies', () => {
  // A browser sends these from any website without a CORS preflight.
  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('refuses a JSON body sent as %s with 400 INVALID_REQUEST naming the type, probing nothing', async (_name, type) => {
    const { check, jobCount } = await start({});
    const { status, body } = await check({ provider_ip: '127.0.0.1', ports: open.ports }, { headers: { 'content-type': type } });
    expect(status).toBe(400);
    expect(body.detail).toEqual({
      code: 'INVALID_REQUEST',
      message: `the request body must be JSON sent as Content-Type: application/json, got Content-Type ${JSON.stringify(type)}`,
    });
    expect(await jobCount()).toBe(0);
  });

  it('refuses a body without a Content-Type, and checks one sent as application/json', async () => {
    const { url, check } = await start({});
    const untyped = await fetch(`${url}/check-ports`, { method: 'POST', body: new Blob([JSON.stringify({ provider_ip: '127.0.0.1', ports: open.ports })]) });
    const typed = await check({ provider_ip: '127.0.0.1', ports: open.ports }, { headers: { 'content-type': 'application/json; charset=utf-8' } });

    expect(untyped.status).toBe(400);
    expect(((await untyped.json()) as { detail: { message: string } }).detail.message).toMatch(/got no Content-Type$/);
    expect(typed.status).toBe(200);
    expect(typed.body.results[open.ports[0]!]!.accessible).toBe(true);
  });
});
