import { describe, expect, it } from 'vitest';
import { AppError } from '@port-checker/shared';
import { parseCheckRequest } from '../src/checks/check-request.js';

const policy = { maxPorts: 4, allowLocalIps: false, denyCidrs: [] };
const parse = (body: unknown, callerIp: string | undefined = '8.8.8.8') => parseCheckRequest(body, callerIp, policy);
const codeOf = (body: unknown, callerIp?: string): string => {
  try {
    parse(body, callerIp);
  } catch (error) {
    return (error as AppError).code;
  }
  return 'none';
};

describe('parseCheckRequest', () => {
  it('collapses duplicate ports, keeps their order and ignores unknown fields', () => {
    expect(parse({ provider_ip: '1.1.1.1', ports: [7466, 50800, 7466], extra: true })).toEqual({
      host: '1.1.1.1',
      ports: [7466, 50800],
    });
  });

  it("checks the caller's own address when provider_ip is omitted or null", () => {
    expect(parse({ ports: [1] }, '::ffff:9.9.9.9').host).toBe('9.9.9.9');
    expect(parse({ provider_ip: null, ports: [1] }, '9.9.9.9').host).toBe('9.9.9.9');
  });

  it.each([
    [undefined, 'INVALID_REQUEST'],
    ['text', 'INVALID_REQUEST'],
    [[7466], 'INVALID_REQUEST'],
    [{}, 'INVALID_REQUEST'],
    [{ ports: 7466 }, 'INVALID_REQUEST'],
    [{ ports: [] }, 'INVALID_REQUEST'],
    [{ ports: [0] }, 'INVALID_PORT'],
    [{ ports: [65536] }, 'INVALID_PORT'],
    [{ ports: [80.5] }, 'INVALID_PORT'],
    [{ ports: ['80'] }, 'INVALID_PORT'],
    [{ ports: [null] }, 'INVALID_PORT'],
    [{ ports: [1, 2, 3, 4, 5] }, 'TOO_MANY_PORTS'],
    [{ provider_ip: 'example.com', ports: [1] }, 'INVALID_IP'],
    [{ provider_ip: '127.1', ports: [1] }, 'INVALID_IP'],
    [{ provider_ip: 42, ports: [1] }, 'INVALID_IP'],
    [{ provider_ip: '10.0.0.1', ports: [1] }, 'FORBIDDEN_TARGET'],
    [{ provider_ip: '::1', ports: [1] }, 'FORBIDDEN_TARGET'],
  ])('refuses %j with %s', (body, code) => {
    expect(codeOf(body)).toBe(code);
  });

  it('counts unique ports against the limit', () => {
    expect(parse({ ports: [1, 2, 3, 4, 4, 4] }).ports).toHaveLength(4);
  });

  it('names the offending port', () => {
    expect(() => parse({ ports: [80, 'http'] })).toThrow('ports[1] is "http"');
  });

  it('refuses a request with no caller address and no provider_ip', () => {
    expect(() => parseCheckRequest({ ports: [1] }, undefined, policy)).toThrow(AppError);
    expect(() => parseCheckRequest({ ports: [1] }, undefined, policy)).toThrow('provider_ip');
  });
});

describe('parseCheckRequest in self-check mode', () => {
  const selfCheck = { ...policy, selfCheckOnly: true };

  it("accepts the caller's own address, given or left out, in any spelling", () => {
    expect(parseCheckRequest({ ports: [1] }, '9.9.9.9', selfCheck).host).toBe('9.9.9.9');
    expect(parseCheckRequest({ provider_ip: '::ffff:9.9.9.9', ports: [1] }, '9.9.9.9', selfCheck).host).toBe('9.9.9.9');
    expect(parseCheckRequest({ provider_ip: '2001:4860:0::1', ports: [1] }, '2001:4860::1', selfCheck).host).toBe('2001:4860::1');
  });

  it('refuses any other address with FORBIDDEN_TARGET and says why', () => {
    expect(() => parseCheckRequest({ provider_ip: '8.8.8.8', ports: [1] }, '9.9.9.9', selfCheck)).toThrow(
      /only checks the address a request comes from \(9\.9\.9\.9\), not 8\.8\.8\.8/,
    );
    expect(() => parseCheckRequest({ provider_ip: '8.8.8.8', ports: [1] }, '9.9.9.9', selfCheck)).toThrow(AppError);
  });
});
