import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckPortsRequest, CheckPortsResponse, CheckTlsRequest, CheckTlsResponse, ErrorResponse, ErrorStatus, PortResult, PortState, type ErrorCode } from '@port-checker/shared';
import { startService, type Service } from '../support/service.js';

let service: Service;
beforeAll(async () => {
  // The per-client limit on, so that answers carry the RateLimit-* headers the document declares.
  service = await startService({ workers: 0, env: { PORT_CHECKER_RATE_LIMIT_PORTS: '1000' } });
});
afterAll(async () => {
  await service?.stop();
});

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  required?: string[];
  enum?: string[];
}
interface Operation {
  operationId: string;
  tags: string[];
  requestBody: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: Schema; example?: unknown }> }
  >;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers: Record<string, unknown> };
}

/** A named schema from components, following a $ref. */
const resolve = (document: Document, schema: Schema): Schema =>
  schema.$ref ? document.components.schemas[schema.$ref.replace('#/components/schemas/', '')]! : schema;

async function openApi(): Promise<Document> {
  const response = await fetch(`${service.url}/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

describe('GET /openapi.json', () => {
  it('declares the optional bearer token of /check-ports, so that "Try it out" can send it', async () => {
    const document = (await openApi()) as Document & { components: { securitySchemes: Record<string, unknown> } };
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const operation = document.paths['/check-ports']!.post! as Operation & { security: unknown[] };
    expect(operation.security).toEqual([{ bearer: [] }, {}]);
  });

  it('is an OpenAPI 3 document of every route', async () => {
    const document = await openApi();
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info).toMatchObject({ title: 'Golem port checker', version: expect.any(String) });
    expect(Object.keys(document.paths).sort()).toEqual(['/check-ports', '/check-tls', '/health', '/ready', '/whoami']);
  });

  it('describes POST /check-tls with the schemas the API validates and answers with', async () => {
    const document = await openApi();
    const operation = document.paths['/check-tls']!.post!;
    const request = operation.requestBody.content['application/json']!;
    const requestSchema = resolve(document, request.schema);
    expect(Object.keys(requestSchema.properties!)).toEqual(Object.keys(CheckTlsRequest.shape));
    expect(requestSchema.required).toEqual(['host', 'port']);
    expect(CheckTlsRequest.safeParse(request.example).success).toBe(true);
    const answer = operation.responses['200']!.content!['application/json']!;
    // The Golem checker's four fields, then those only an answer from several vantages has.
    expect(Object.keys(resolve(document, answer.schema).properties!)).toEqual(Object.keys(CheckTlsResponse.shape));
    expect(Object.keys(CheckTlsResponse.shape)).toEqual(['valid', 'error', 'peer', 'not_after', 'vantages', 'agreement']);
    expect(operation.responses['429']!.description).toContain('RATE_LIMITED');
  });

  it('describes the check request and response with the very zod schemas the API validates with, as named schemas', async () => {
    const document = await openApi();
    const operation = document.paths['/check-ports']!.post!;
    const request = operation.requestBody.content['application/json']!;
    expect(request.schema.$ref).toBe('#/components/schemas/CheckPortsRequest');
    const requestSchema = resolve(document, request.schema);
    expect(Object.keys(requestSchema.properties!)).toEqual(Object.keys(CheckPortsRequest.shape));
    expect(requestSchema.required).toEqual(['ports']);
    expect(CheckPortsRequest.safeParse(request.example).success).toBe(true);

    const ok = operation.responses['200']!.content!['application/json']!;
    expect(ok.schema.$ref).toBe('#/components/schemas/CheckPortsResponse');
    expect(CheckPortsResponse.safeParse(ok.example).success).toBe(true);
    const result = resolve(document, resolve(document, ok.schema).properties!.results!.additionalProperties!);
    expect(Object.keys(result.properties!)).toEqual(Object.keys(PortResult.shape));
    expect(resolve(document, result.properties!.state!).enum).toEqual(PortState.options);
    expect(Object.keys(document.components.schemas).sort()).toEqual(
      ['CheckPortsRequest', 'CheckPortsResponse', 'CheckTlsRequest', 'CheckTlsResponse', 'ErrorResponse', 'HealthResponse', 'PortResult', 'PortState', 'ReadyResponse', 'WhoamiResponse'],
    );
  });

  it('gives every operation an operationId and a declared tag', async () => {
    const document = await openApi();
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.sort()).toEqual(['checkPorts', 'checkTls', 'getHealth', 'getReadiness', 'whoami']);
    const tags = document.tags.map((tag) => tag.name);
    for (const operation of operations) expect(tags).toEqual(expect.arrayContaining(operation.tags));
  });

  it('lists every error code a check can be answered with as an enum under its status, with an example', async () => {
    const { responses } = (await openApi()).paths['/check-ports']!.post!;
    const codes = (Object.keys(ErrorStatus) as ErrorCode[]).filter((c) => c !== 'NOT_FOUND' && c !== 'NOT_READY');
    const statuses = new Set(codes.map((code) => String(ErrorStatus[code])));
    for (const status of statuses) {
      const content = responses[status]!.content!['application/json']!;
      const enumerated = content.schema.properties!.detail!.properties!.code!.enum;
      expect(enumerated, status).toEqual(codes.filter((code) => String(ErrorStatus[code]) === status));
      expect(ErrorResponse.safeParse(content.example).success).toBe(true);
      expect(enumerated).toContain((content.example as ErrorResponse).detail.code);
    }
  });

  it('declares the headers the API really sends: X-Request-Id, RateLimit-*, and Retry-After on 429 and 503', async () => {
    const document = await openApi();
    const { responses } = document.paths['/check-ports']!.post!;
    const declared = (status: string): string[] => Object.keys(responses[status]!.headers ?? {}).sort();
    const rateLimit = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
    expect(declared('200')).toEqual(['X-Request-Id', ...rateLimit].sort());
    // Validation comes before the budgets: a 400 is charged nothing and describes no budget.
    expect(declared('400')).toEqual(['X-Request-Id']);
    expect(declared('429')).toEqual(['Retry-After', 'X-Request-Id', ...rateLimit].sort());
    expect(declared('503')).toEqual(['Retry-After', 'X-Request-Id', ...rateLimit].sort());
    for (const name of declared('503')) expect(document.components.headers).toHaveProperty(name);

    const refused = await service.check({ ports: [0] });
    expect(refused.status).toBe(400);
    for (const name of declared('400')) expect(refused.headers.get(name), name).not.toBeNull();
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI from the service itself: no asset from another origin', async () => {
    const response = await fetch(`${service.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      const served = await fetch(`${service.url}${asset}`);
      expect(served.status, asset).toBe(200);
    }
    expect(html).not.toMatch(/<script>|https?:\/\//);
  });

  it('serves only the files Swagger UI needs', async () => {
    const response = await fetch(`${service.url}/docs/package.json`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { detail: { code: string } }).detail.code).toBe('NOT_FOUND');
    expect((await fetch(`${service.url}/docs/..%2F..%2Fpackage.json`)).status).toBe(404);
  });
});
