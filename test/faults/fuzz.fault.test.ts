import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckPortsResponse, ErrorResponse, ErrorStatus } from '@port-checker/shared';
import { startService, type Service } from '../support/service.js';

// No worker runs and only public targets are allowed: a random body that happens to be a valid
// request is enqueued but never probed, and ends in CHECK_FAILED at its short deadline.
let service: Service;
beforeAll(async () => {
  service = await startService({ env: { PORT_CHECKER_ALLOW_LOCAL_IPS: 'false', PORT_CHECK_DEADLINE: '0.3' }, workers: 0 });
});
afterAll(() => service?.stop());

const headerText = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const portLike = fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double(), fc.string(), fc.constant(null), fc.boolean());
const requestLike = fc
  .record(
    {
      provider_ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string(), fc.constant(null), fc.integer()),
      ports: fc.oneof(fc.array(portLike, { maxLength: 150 }), portLike),
      challenge: fc.string(),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));

// Deep nesting overflows recursive code (JSON.stringify once did): a 16 KiB body holds ~8,000 levels.
const deeplyNested = fc
  .record({
    share: fc.double({ min: 0.2, max: 1, noNaN: true }),
    open: fc.constantFrom('[', '{"a":'),
    field: fc.constantFrom(null, 'ports', 'provider_ip', 'challenge'),
  })
  .map(({ share, open, field }) => {
    const close = open === '[' ? ']' : '}';
    const levels = Math.floor((share * 16_000) / (open.length + 1));
    const nested = open.repeat(levels) + '1' + close.repeat(levels);
    return field === null ? nested : `{"${field}": ${nested}}`;
  });

const body = fc.oneof(
  requestLike,
  { arbitrary: deeplyNested, weight: 2 },
  fc.json(),
  fc.string(),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
);
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=bogus',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ),
    headerText,
  ),
);
const encoding = fc.option(fc.oneof(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress'), headerText));
// Half the bodies go out as a well-formed JSON request, so that they reach the code past the parser.
const framing = fc.oneof(fc.tuple(contentType, encoding), fc.constant(['application/json', null] as const));

describe('/check-ports under random input', () => {
  it('always answers in the contract: 2xx or 4xx JSON, 503 only in its shape, never another 5xx, never a hang', async () => {
    await fc.assert(
      fc.asyncProperty(body, framing, fc.boolean(), async (payload, [type, contentEncoding], compress) => {
        const headers: Record<string, string> = {};
        if (type !== null) headers['content-type'] = type;
        if (contentEncoding !== null) headers['content-encoding'] = contentEncoding;
        const bytes = compress && contentEncoding === 'gzip' ? gzipSync(payload) : payload;

        const response = await fetch(`${service.url}/check-ports`, {
          method: 'POST',
          headers,
          body: bytes,
          signal: AbortSignal.timeout(5000),
        });

        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        const json: unknown = await response.json();
        if (response.status === 200) {
          CheckPortsResponse.parse(json);
          return;
        }
        expect(response.status === 503 || (response.status >= 400 && response.status < 500)).toBe(true);
        const { detail } = ErrorResponse.parse(json);
        expect(Object.keys(ErrorStatus)).toContain(detail.code);
        expect(ErrorStatus[detail.code as keyof typeof ErrorStatus]).toBe(response.status);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});

// Percent-escapes that do not decode: broken sequences, overlong and invalid UTF-8.
const escape = fc.oneof(
  fc.constantFrom('%', '%%', '%Z', '%E0%A4%A', '%C0%80', '%FF', '%ED%A0%80', '%F4%90%80%80'),
  fc.stringMatching(/^%[0-9A-Fa-f]{2}$/),
  fc.stringMatching(/^[\w.-]{0,8}$/),
);
const malformedPath = fc
  .tuple(fc.constantFrom('/docs/', '/', '/check-ports/', '/openapi.json/', '/ready/'), fc.array(escape, { minLength: 1, maxLength: 6 }))
  .map(([prefix, parts]) => prefix + parts.join(''));

describe('every route under malformed paths', () => {
  it('answers with a 2xx or 4xx, or a 503 in its shape (/ready here has no worker), never another 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(malformedPath, fc.constantFrom('GET', 'POST'), async (path, method) => {
        const response = await fetch(`${service.url}${path}`, { method, signal: AbortSignal.timeout(5000) });
        const text = await response.text();
        if (response.status < 500) return;
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(ErrorResponse.parse(JSON.parse(text)).detail.code).toMatch(/^(NOT_READY|SERVICE_UNAVAILABLE|CHECK_FAILED)$/);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
