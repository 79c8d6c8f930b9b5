import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhoamiResponse } from '@port-checker/shared';
import { openPorts, type Ports } from '../support/listeners.js';
import { servicePerTest } from '../support/service-per-test.js';

// Every check here probes loopback only; addresses in X-Forwarded-For are who asks, never a target.
const service = servicePerTest();
let open: Ports;
let open6: Ports;
beforeAll(async () => {
  open = await openPorts(1);
  open6 = await openPorts(1, '::1');
});
afterAll(async () => {
  await open?.close();
  await open6?.close();
});

async function whoami(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/whoami`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as WhoamiResponse };
}

describe('GET /whoami', () => {
  it("answers the caller's address, which a check without provider_ip then probes, and the deployment's settings", async () => {
    const { url, check } = await service.start();

    const answer = await whoami(url);
    const checked = await check({ ports: open.ports });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      address: '127.0.0.1',
      accepts_other_targets: true,
      max_ports_per_request: 128,
      api_token_required: false,
    });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(checked.body).toMatchObject({ provider_ip: answer.body.address, results: { [open.ports[0]!]: { state: 'open' } } });
  });

  it('answers an IPv6 caller with its IPv6 address', async () => {
    const { url, check } = await service.start({ env: { PORT_CHECKER_HOST: '::1' } });
    expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/);

    const answer = await whoami(url);
    const checked = await check({ ports: open6.ports });

    expect(answer.body.address).toBe('::1');
    expect(checked.body).toMatchObject({ provider_ip: '::1', results: { [open6.ports[0]!]: { state: 'open' } } });
  });

  it('says when only the caller may be checked, a token is needed and how many ports fit one request; needs no token itself', async () => {
    const token = 'whoami-token-0123456789abcdef';
    const { url, check } = await service.start({
      env: { PORT_CHECKER_SELF_CHECK_ONLY: 'true', PORT_CHECKER_API_TOKEN: token, PORT_CHECK_MAX_PORTS: '4' },
    });
    const authorized = { headers: { authorization: `Bearer ${token}` } };

    const answer = await whoami(url);
    const fits = await check({ ports: [...open.ports, 1, 2, 3] }, authorized);
    const tooMany = await check({ ports: [...open.ports, 1, 2, 3, 4] }, authorized);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      address: '127.0.0.1',
      accepts_other_targets: false,
      max_ports_per_request: 4,
      api_token_required: true,
    });
    expect(fits.status).toBe(200);
    expect(tooMany.body.detail.code).toBe('TOO_MANY_PORTS');
  });

  it('behind a trusted proxy answers the forwarded address, and refuses one that is not an address', async () => {
    const { url } = await service.start({ env: { PORT_CHECKER_TRUST_PROXY: 'loopback' }, workers: 0 });

    const forwarded = await whoami(url, { 'x-forwarded-for': '198.51.100.7' });
    const mapped = await whoami(url, { 'x-forwarded-for': '::ffff:198.51.100.8' });
    const garbage = await fetch(`${url}/whoami`, { headers: { 'x-forwarded-for': 'not-an-address' } });

    expect(forwarded.body.address).toBe('198.51.100.7');
    expect(mapped.body.address).toBe('198.51.100.8');
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toEqual({ detail: { code: 'INVALID_REQUEST', message: expect.stringContaining("caller's address") } });
  });

  it('costs nothing of the per-client limit: the page asks it on every load', async () => {
    const { url, check } = await service.start({ env: { PORT_CHECKER_RATE_LIMIT_PORTS: '1' } });

    for (let i = 0; i < 3; i += 1) expect((await whoami(url)).status).toBe(200);
    const first = await check({ ports: open.ports });
    const second = await check({ ports: open.ports });

    expect(first.status).toBe(200);
    expect(second.status).toBe(429);
  });

  it('is in the OpenAPI document, with the schema it answers with', async () => {
    const { url } = await service.start({ workers: 0 });
    interface Schema { properties: Record<string, unknown>; required: string[] }
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> } }>;
      components: { schemas: Record<string, Schema> };
    };

    const { $ref } = document.paths['/whoami']!.get!.responses['200']!.content['application/json']!.schema;
    expect($ref).toBe('#/components/schemas/WhoamiResponse');
    const schema = document.components.schemas.WhoamiResponse!;
    const answer = await whoami(url);

    expect(Object.keys(schema.properties)).toEqual(Object.keys(WhoamiResponse.shape));
    expect(schema.required.sort()).toEqual(Object.keys(answer.body).sort());
    expect(WhoamiResponse.strict().safeParse(answer.body).success).toBe(true);
  });
});
