import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, createMetrics } from '@port-checker/shared';
import { captureLogs, type CapturedLogs } from '../../../test/support/log-capture.js';
import { createApp } from '../src/app.js';
import type { Budgets } from '../src/budgets/budgets.js';
import type { Checker } from '../src/checks/checker.js';
import type { ProbeQueue } from '../src/queue/probe-queue.js';

// The real app (createApp: its routes, body parsing, notFound and errorHandler) on a loopback
// port, with a checker that throws what the test says and budgets that charge nothing: every
// error reaches the caller through the one error handler, as in production. No Redis.
let thrown: unknown;
const checker: Checker = {
  check: async () => {
    throw thrown;
  },
  checkTls: async () => {
    throw thrown;
  },
  probesPerPort: 1,
  draining: false,
  drain: async () => {},
  close: () => {},
};
const budgets: Budgets = {
  spend: async (_check, run) => ({ value: await run(), headers: {} }),
  chargeUnauthorized: async () => ({}),
  refundsFailed: 0,
};

let server: Server;
let url: string;
let logs: CapturedLogs;
beforeAll(async () => {
  logs = captureLogs('api');
  const app = createApp({
    checker,
    queue: {} as ProbeQueue, // only /ready reads it
    logger: logs.logger,
    policy: { maxPorts: 4, allowLocalIps: true, denyCidrs: [], selfCheckOnly: false },
    metrics: { registry: createMetrics().registry, observe: () => {} },
    queueName: 'test',
    security: { apiToken: undefined, trustProxy: false, corsOrigins: [] },
    budgets,
  });
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));
beforeEach(() => {
  thrown = undefined;
  logs.lines.length = 0;
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: { detail: Record<string, unknown> };
}

async function send(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Answer['body'] };
}

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> =>
  send('/check-ports', { method: 'POST', headers, body });
const aCheck = JSON.stringify({ provider_ip: '127.0.0.1', ports: [7466] });

/** Every error answer: JSON, exactly `{detail: {code, message, limit?}}`, and nothing of a stack. */
function expectErrorAnswer(answer: Answer, status: number, detail: Record<string, unknown>): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toEqual({ detail });
  expect(answer.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/src\/|Error:/);
}

describe('the error handler, through the app', () => {
  it('answers an AppError with its status, code, message, Retry-After and headers', async () => {
    thrown = new AppError('CHECK_FAILED', 'could not check every port: a probe failed', { retryAfter: 5 });
    const failed = await post(aCheck);
    expectErrorAnswer(failed, 503, { code: 'CHECK_FAILED', message: 'could not check every port: a probe failed' });
    expect(failed.headers.get('retry-after')).toBe('5');

    thrown = new AppError('RATE_LIMITED', 'per-client limit: retry in 42 s', {
      retryAfter: 42,
      headers: { 'RateLimit-Limit': '300', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '42' },
      limit: 'client',
    });
    const limited = await post(aCheck);
    expectErrorAnswer(limited, 429, { code: 'RATE_LIMITED', message: 'per-client limit: retry in 42 s', limit: 'client' });
    expect(limited.headers.get('retry-after')).toBe('42');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');

    thrown = new AppError('SERVICE_UNAVAILABLE', 'the job queue (Redis) is not reachable; try again shortly', { retryAfter: 5 });
    const tls = await send('/check-tls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"host": "127.0.0.1", "port": 443}' });
    expectErrorAnswer(tls, 503, { code: 'SERVICE_UNAVAILABLE', message: 'the job queue (Redis) is not reachable; try again shortly' });
    expect(tls.headers.get('retry-after')).toBe('5');
  });

  it('hides an unexpected error behind 500 INTERNAL_ERROR, and logs it instead', async () => {
    thrown = new TypeError("Cannot read properties of undefined (reading 'secret-detail')");

    const answer = await post(aCheck);

    expectErrorAnswer(answer, 500, { code: 'INTERNAL_ERROR', message: 'internal error; it has been logged' });
    expect(answer.text).not.toContain('secret-detail');
    expect(answer.headers.get('retry-after')).toBeNull();
    await expect.poll(() => logs.lines.find((line) => line.msg === 'request failed')).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
      err: { type: 'TypeError', message: expect.stringContaining('secret-detail'), stack: expect.any(String) },
    });
  });

  it.each([
    ['a body that is not JSON', 400, 'INVALID_REQUEST', 'the request body is not valid JSON', () => post('{"ports": [1')],
    ['a body over 16 KiB', 413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than 16 KiB', () => post(JSON.stringify({ pad: 'x'.repeat(17 * 1024) }))],
    [
      'a body sent as text/plain',
      400,
      'INVALID_REQUEST',
      'the request body must be JSON sent as Content-Type: application/json, got Content-Type "text/plain"',
      () => post(aCheck, { 'content-type': 'text/plain' }),
    ],
    ['a charset JSON is never in', 400, 'INVALID_REQUEST', 'unsupported charset "LATIN1"', () => post(aCheck, { 'content-type': 'application/json; charset=latin1' })],
    [
      'a content encoding it cannot read',
      400,
      'INVALID_REQUEST',
      'unsupported content encoding "compress"',
      () => post(aCheck, { 'content-type': 'application/json', 'content-encoding': 'compress' }),
    ],
    ['a path that is not valid percent-encoding', 400, 'INVALID_REQUEST', 'the path is not valid percent-encoded UTF-8', () => send('/assets/%E0%A4%A')],
    ['a file the page does not have', 404, 'NOT_FOUND', 'no such file: /assets/nothing.js', () => send('/assets/nothing.js')],
    ['a route that does not exist', 404, 'NOT_FOUND', 'no route for DELETE /nothing', () => send('/nothing', { method: 'DELETE' })],
  ])('answers %s with %i %s, in words, without Retry-After', async (_name, status, code, message, request) => {
    const answer = await request();
    expectErrorAnswer(answer, status, { code, message });
    expect(answer.headers.get('retry-after')).toBeNull();
  });
});
