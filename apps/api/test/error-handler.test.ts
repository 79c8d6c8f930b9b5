import { describe, expect, it } from 'vitest';
import { AppError, ErrorStatus } from '@port-checker/shared';
import { toAppError } from '../src/http/error-handler.js';

describe('toAppError', () => {
  it('keeps an AppError as it is', () => {
    const error = new AppError('CHECK_FAILED', 'late', { retryAfter: 5 });
    expect(toAppError(error)).toBe(error);
    expect(error.status).toBe(503);
  });

  it.each([
    [{ type: 'entity.too.large', status: 413, expose: true }, 'PAYLOAD_TOO_LARGE', 413],
    [{ type: 'entity.parse.failed', status: 400, expose: true }, 'INVALID_REQUEST', 400],
    [{ type: 'encoding.unsupported', status: 415, expose: true }, 'INVALID_REQUEST', 400],
    [{ type: 'charset.unsupported', status: 415, expose: true }, 'INVALID_REQUEST', 400],
    [{ status: 404, expose: true }, 'NOT_FOUND', 404],
  ])('maps body-parser errors: %j', (fields, code, status) => {
    const mapped = toAppError(Object.assign(new Error('x'), fields));
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
  });

  it('hides anything unexpected behind INTERNAL_ERROR', () => {
    const mapped = toAppError(new TypeError('secret detail'));
    expect(mapped).toMatchObject({ code: 'INTERNAL_ERROR', status: 500 });
    expect(mapped.message).not.toContain('secret');
  });

  it('gives every code a 4xx or 5xx status', () => {
    for (const status of Object.values(ErrorStatus)) expect(status).toBeGreaterThanOrEqual(400);
  });
});
