import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckPortsResponse, ErrorResponse } from '@port-checker/shared';
import { closedPorts, filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
let open: Ports;
let filtered: Ports;

beforeAll(async () => {
  service = await startService({ env: { PORT_CHECK_TIMEOUT: '0.2', PORT_CHECK_RETRY_DELAY: '0.05', PORT_CHECK_RETRIES: '2' } });
  open = await openPorts(2);
  filtered = await filteredPorts(1);
});
afterAll(async () => {
  await service?.stop();
  await open?.close();
  await filtered?.close();
});

describe('POST /check-ports', () => {
  it("answers in the Golem port checker's format, one entry per unique port", async () => {
    const [closed] = await closedPorts(1);
    const [a, b] = open.ports as [number, number];
    const ports = [a, closed!, filtered.ports[0]!, b, a];

    const { status, body, headers } = await service.check({ provider_ip: '127.0.0.1', ports, unknown: 'ignored' });

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(CheckPortsResponse.strict().parse(body)).toEqual(body);
    expect(body).toEqual({
      success: true,
      results: {
        [a]: { accessible: true, error: null, state: 'open', attempts: 1, latency_ms: expect.any(Number) },
        [b]: { accessible: true, error: null, state: 'open', attempts: 1, latency_ms: expect.any(Number) },
        [closed!]: { accessible: false, error: 'Connection refused', state: 'closed', attempts: 1, latency_ms: null },
        [filtered.ports[0]!]: {
          accessible: false,
          error: 'Connection timed out',
          state: 'filtered',
          attempts: 2,
          latency_ms: null,
        },
      },
      message: 'Successfully verified 2 out of 4 ports',
      provider_ip: '127.0.0.1',
    });
  });

  it('says success is false when no port is accessible', async () => {
    const [closed] = await closedPorts(1);
    const { status, body } = await service.check({ provider_ip: '127.0.0.1', ports: [closed] });
    expect(status).toBe(200);
    expect(body).toMatchObject({ success: false, message: 'Successfully verified 0 out of 1 ports' });
  });

  it('checks IPv6 targets', async () => {
    const open6 = await openPorts(1, '::1');
    try {
      const { status, body } = await service.check({ provider_ip: '::1', ports: open6.ports });
      expect(status).toBe(200);
      expect(body.provider_ip).toBe('::1');
      expect(body.results[open6.ports[0]!]).toMatchObject({ accessible: true, state: 'open' });
    } finally {
      await open6.close();
    }
  });

  it("checks the caller's own address when provider_ip is omitted", async () => {
    const { status, body } = await service.check({ ports: [open.ports[0]] });
    expect(status).toBe(200);
    expect(body.provider_ip).toBe('127.0.0.1');
    expect(body.results[open.ports[0]!]!.accessible).toBe(true);
  });

  it('writes one log line per check: target, ports, accessible, duration and status', async () => {
    const before = service.apiLogs.lines.length;
    await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    const lines = service.apiLogs.lines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      path: '/check-ports',
      status: 200,
      target: '127.0.0.1',
      ports: 2,
      accessible: 2,
      outcome: 'ok',
      durationMs: expect.any(Number),
      reqId: expect.any(String),
    });
  });
});

describe('refused requests', () => {
  const big = JSON.stringify({ ports: [1], pad: 'x'.repeat(17 * 1024) });
  const cases: Array<[string, unknown, number, string]> = [
    ['a body that is not JSON', '{"ports": [1', 400, 'INVALID_REQUEST'],
    ['a JSON array', [7466], 400, 'INVALID_REQUEST'],
    ['a JSON string', '"7466"', 400, 'INVALID_REQUEST'],
    ['an empty body', '', 400, 'INVALID_REQUEST'],
    ['missing ports', { provider_ip: '127.0.0.1' }, 400, 'INVALID_REQUEST'],
    ['ports not an array', { ports: '7466' }, 400, 'INVALID_REQUEST'],
    ['empty ports', { ports: [] }, 400, 'INVALID_REQUEST'],
    ['a hostname', { provider_ip: 'localhost', ports: [1] }, 400, 'INVALID_IP'],
    ['a shorthand IPv4', { provider_ip: '127.1', ports: [1] }, 400, 'INVALID_IP'],
    ['a hex IPv4', { provider_ip: '0x7f.0.0.1', ports: [1] }, 400, 'INVALID_IP'],
    ['an IPv6 zone id', { provider_ip: 'fe80::1%lo', ports: [1] }, 400, 'INVALID_IP'],
    ['port 0', { provider_ip: '127.0.0.1', ports: [0] }, 400, 'INVALID_PORT'],
    ['port 65536', { provider_ip: '127.0.0.1', ports: [65536] }, 400, 'INVALID_PORT'],
    ['a fractional port', { provider_ip: '127.0.0.1', ports: [80.5] }, 400, 'INVALID_PORT'],
    ['more ports than allowed', { provider_ip: '127.0.0.1', ports: Array.from({ length: 129 }, (_, i) => i + 1) }, 400, 'TOO_MANY_PORTS'],
    ['a body over 16 KiB', big, 413, 'PAYLOAD_TOO_LARGE'],
  ];

  it.each(cases)('refuses %s with a JSON error and enqueues nothing', async (_name, body, status, code) => {
    const jobsBefore = await service.jobCount();
    const answer = await service.check(body);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ErrorResponse.parse(answer.body)).toEqual({ detail: { code, message: expect.stringMatching(/\S/) } });
    expect(await service.jobCount()).toBe(jobsBefore);
  });

  it('names the port that is wrong', async () => {
    const { body } = await service.check({ provider_ip: '127.0.0.1', ports: [80, 70000] });
    expect(body.detail.message).toContain('70000');
  });

  it('accepts as many ports as the limit once duplicates collapse', async () => {
    const ports = [...Array.from({ length: 200 }, () => open.ports[0]!)];
    expect((await service.check({ provider_ip: '127.0.0.1', ports })).status).toBe(200);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${service.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: { code: 'NOT_FOUND', message: expect.any(String) } });
  });
});

describe('GET /health', () => {
  it('answers ok', async () => {
    const response = await fetch(`${service.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
