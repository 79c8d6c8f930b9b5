import { createRequire } from 'node:module';
import { OpenAPIRegistry, OpenApiGeneratorV3, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CheckPortsRequest,
  CheckPortsResponse,
  CheckTlsRequest,
  CheckTlsResponse,
  ErrorResponse,
  ErrorStatus,
  type ErrorCode,
} from '@port-checker/shared';
import { CHECK_PORTS_PATH } from './check-ports.route.js';
import { CHECK_TLS_PATH } from './check-tls.route.js';
import { ReadyResponse } from './readiness.route.js';
import { WHOAMI_PATH, WhoamiResponse } from './whoami.route.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const json = <T>(schema: T, example?: unknown) => ({ 'application/json': { schema, ...(example !== undefined && { example }) } });

/** One response per status, listing the error codes the errors table maps to it. */
function errorResponses(codes: readonly ErrorCode[]): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ErrorStatus[code], [...(byStatus.get(ErrorStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { description: `error: ${list.map((code) => `\`${code}\``).join(', ')}`, content: json(ErrorResponse) },
    ]),
  );
}

/**
 * The OpenAPI 3 document, generated from the zod schemas the API validates with: the request
 * and response shapes are never restated here, so the document cannot drift from the code.
 */
export function createOpenApiDocument(): ReturnType<OpenApiGeneratorV3['generateDocument']> {
  const registry = new OpenAPIRegistry();
  const allCodes = Object.keys(ErrorStatus) as ErrorCode[];
  // Codes that a check can be answered with: every one but those of other routes.
  const checkCodes = allCodes.filter((code) => code !== 'NOT_FOUND' && code !== 'NOT_READY');
  // Needed only when PORT_CHECKER_API_TOKEN is set; declared so that "Try it out" can send it.
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'PORT_CHECKER_API_TOKEN, when the operator has set one',
  });

  registry.registerPath({
    method: 'post',
    path: CHECK_PORTS_PATH,
    summary: 'Check whether TCP ports of a host are reachable from the internet',
    description:
      'Probes every port at once with TCP connects (timeout, retries and delay as configured) and answers when all ' +
      'have finished, within the deadline (7 s by default): a port whose retries would not fit is answered with what ' +
      'its attempts found so far. Costs one port per unique port of the per-client budget (and, for someone else\'s ' +
      'address, of the per-target budgets). Any answer other than 200 means: ask another checker.',
    // Either the token or nothing: an empty requirement keeps the token optional in the document.
    security: [{ [bearer.name]: [] }, {}],
    request: { body: { required: true, content: json(CheckPortsRequest, { provider_ip: '203.0.113.7', ports: [7466, 50800] }) } },
    responses: {
      200: { description: 'one result per unique port, keyed by the port number', content: json(CheckPortsResponse) },
      ...errorResponses(checkCodes),
    },
  });
  registry.registerPath({
    method: 'post',
    path: CHECK_TLS_PATH,
    summary: "Check a TLS service's certificate as a client on the internet would see it",
    description:
      'One TLS handshake from a worker: valid when it completes in time, the chain verifies against the trust store ' +
      "(Node's CAs plus NODE_EXTRA_CA_CERTS), the certificate has not expired and, if given, expected_ip is among its " +
      'IP subject alternative names. Nothing is sent after the handshake. Costs one port of the budgets.',
    security: [{ [bearer.name]: [] }, {}],
    request: { body: { required: true, content: json(CheckTlsRequest, { host: '203.0.113.7', port: 443, expected_ip: '203.0.113.7' }) } },
    responses: {
      200: {
        description: 'the verdict; `valid: false` with a reason is still a 200',
        content: json(CheckTlsResponse, { valid: true, error: null, peer: '203.0.113.7:443', not_after: '2027-03-01T12:00:00.000Z' }),
      },
      ...errorResponses(checkCodes.filter((code) => code !== 'TOO_MANY_PORTS')),
    },
  });
  registry.registerPath({
    method: 'get',
    path: WHOAMI_PATH,
    summary: "The caller's address as this checker sees it, and what a check may ask for",
    description:
      'What a check without provider_ip probes, so that no outside what-is-my-IP service is needed; whether ' +
      'provider_ip may name another address; how many ports one request may carry. Needs no token.',
    responses: {
      200: { description: "the caller's address and this checker's settings", content: json(WhoamiResponse) },
      ...errorResponses(['INVALID_REQUEST']),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/ready',
    summary: 'Readiness: Redis answers and at least one worker is connected',
    responses: {
      200: { description: 'ready to check ports', content: json(ReadyResponse) },
      ...errorResponses(['SERVICE_UNAVAILABLE', 'NOT_READY']),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/health',
    summary: 'Liveness: the process runs, whether or not Redis answers',
    responses: { 200: { description: 'alive', content: json(z.object({ status: z.literal('ok') })) } },
  });

  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Golem port checker',
      version,
      description: 'Tells Golem providers whether their TCP ports are reachable from the internet.',
    },
  });
}
