import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckPortsRequest, CheckTlsRequest, ErrorStatus, PortResult, PortState, type ErrorCode } from '@port-checker/shared';
import { startService, type Service } from '../support/service.js';

let service: Service;
beforeAll(async () => {
  service = await startService({ workers: 0 });
});
afterAll(async () => {
  await service?.stop();
});

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  required?: string[];
  enum?: string[];
}
interface Operation {
  requestBody: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

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
    const operation = (await openApi()).paths['/check-tls']!.post!;
    const request = operation.requestBody.content['application/json']!;
    expect(Object.keys(request.schema.properties!)).toEqual(Object.keys(CheckTlsRequest.shape));
    expect(request.schema.required).toEqual(['host', 'port']);
    expect(CheckTlsRequest.safeParse(request.example).success).toBe(true);
    const answer = operation.responses['200']!.content!['application/json']!;
    expect(Object.keys(answer.schema.properties!)).toEqual(['valid', 'error', 'peer', 'not_after']);
    expect(operation.responses['429']!.description).toContain('RATE_LIMITED');
  });

  it('describes the check request and response with the very zod schemas the API validates with', async () => {
    const operation = (await openApi()).paths['/check-ports']!.post!;
    const request = operation.requestBody.content['application/json']!;
    expect(Object.keys(request.schema.properties!)).toEqual(Object.keys(CheckPortsRequest.shape));
    expect(request.schema.required).toEqual(['ports']);
    expect(CheckPortsRequest.safeParse(request.example).success).toBe(true);

    const result = operation.responses['200']!.content!['application/json']!.schema.properties!.results!;
    expect(Object.keys(result.additionalProperties!.properties!)).toEqual(Object.keys(PortResult.shape));
    expect(result.additionalProperties!.properties!.state!.enum).toEqual(PortState.options);
  });

  it('lists every error code a check can be answered with, under its status', async () => {
    const { responses } = (await openApi()).paths['/check-ports']!.post!;
    const codes = (Object.keys(ErrorStatus) as ErrorCode[]).filter((c) => c !== 'NOT_FOUND' && c !== 'NOT_READY');
    for (const code of codes) {
      const response = responses[String(ErrorStatus[code])];
      expect(response?.description, code).toContain(code);
      expect(Object.keys(response!.content!['application/json']!.schema.properties!)).toEqual(['detail']);
    }
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
