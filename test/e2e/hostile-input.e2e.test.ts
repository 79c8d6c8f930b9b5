import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse } from '@port-checker/shared';
import { startService, type Service } from '../support/service.js';

// Input an attacker sends to make the API fail; no worker runs, nothing here is a target.
let service: Service;
beforeAll(async () => {
  service = await startService({ workers: 0 });
});
afterAll(() => service?.stop());

const deepArray = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

describe('input that once caused a 500', () => {
  it.each([
    ['a top-level array', deepArray(7000)],
    ['ports', `{"ports": ${deepArray(7000)}}`],
    ['provider_ip', `{"provider_ip": ${deepArray(7000)}, "ports": [7466]}`],
    ['challenge', `{"challenge": ${deepArray(7000)}, "ports": [7466]}`],
  ])('answers 400 to a 14 KB body nested 7,000 levels deep in %s, never 500', async (_where, body) => {
    const before = service.apiLogs.lines.length;
    const { status, body: answer } = await service.check(body);
    expect(body.length).toBeGreaterThanOrEqual(14_000);
    expect(status).toBe(400);
    expect(ErrorResponse.parse(answer).detail.code).toMatch(/^INVALID_/);
    expect(service.apiLogs.lines.slice(before)).toEqual([expect.objectContaining({ level: 30, status: 400 })]);
  });

  it.each(['/docs/%E0%A4%A', '/docs/%', '/docs/%C0%80'])('answers 400 to GET %s, a malformed path, never 500', async (path) => {
    const response = await fetch(`${service.url}${path}`);
    expect(response.status).toBe(400);
    expect(ErrorResponse.parse(await response.json()).detail).toEqual({
      code: 'INVALID_REQUEST',
      message: 'the path is not valid percent-encoded UTF-8',
    });
  });
});
