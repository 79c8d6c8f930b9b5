import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV3, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CheckPortsRequest,
  CheckPortsResponse,
  CheckTlsRequest,
  CheckTlsResponse,
  ErrorResponse,
  ErrorStatus,
  HealthResponse,
  PortResult,
  PortState,
  ReadyResponse,
  ROUTES,
  VERSION,
  WhoamiResponse,
  type ErrorCode,
  type Route,
} from '@port-checker/shared';

// registry.register() names a schema through the .openapi() method this adds to zod's types. Zod 4
// copies methods onto a schema when it is made, so the contract's schemas are cloned (`.meta({})`)
// after this line to get it.
extendZodWithOpenApi(z);

const json = <T>(schema: T, example?: unknown) => ({ 'application/json': { schema, ...(example !== undefined && { example }) } });

// Headers, declared once under components and referred to by each response that carries them.
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const HEADERS = {
  'X-Request-Id': { description: "This request's id, also in the API's log line for it", schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
  'RateLimit-Limit': {
    description: "Ports per window of the caller's budget (only while it is on); on a 429, of the limit that refused",
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': { description: 'Ports left in the current window (or, for the cap on ports in flight, now)', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the current window ends, or until ports in flight free up', schema: { type: 'integer' } },
} as const;
const RATE_LIMIT_HEADERS = { 'RateLimit-Limit': header('RateLimit-Limit'), 'RateLimit-Remaining': header('RateLimit-Remaining'), 'RateLimit-Reset': header('RateLimit-Reset') };

// Messages for the examples; the real ones name what was wrong.
const EXAMPLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  INVALID_PORT: 'port 70000 is not an integer in 1..65535',
  FORBIDDEN_TARGET: '10.0.0.1 is not a public address',
  RATE_LIMITED: 'per-client limit: 203.0.113.7 may have 300 ports checked per 60 s and 2 are left, fewer than the 100 asked for; retry in 42 s',
  SERVICE_UNAVAILABLE: 'Redis does not answer',
  NOT_READY: 'no worker is connected to the queue',
};

/** One response per status: its codes as an enum, an example, Retry-After where the status sends it. */
function errorResponses(codes: readonly ErrorCode[], { rateLimited = false } = {}): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ErrorStatus[code], [...(byStatus.get(ErrorStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => {
      const schema = ErrorResponse.extend({ detail: ErrorResponse.shape.detail.extend({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]) }) });
      const example = { detail: { code: list[0], message: EXAMPLE_MESSAGES[list[0]!] ?? `an explanation of ${list[0]}` } };
      const headers = {
        'X-Request-Id': header('X-Request-Id'),
        ...((status === 429 || status === 503) && { 'Retry-After': header('Retry-After') }),
        // A check is charged to its budgets once it is valid: a 429 describes the limit that refused it, and a
        // 503 the budget it was charged (and then given back).
        ...(rateLimited && (status === 429 || status === 503) && RATE_LIMIT_HEADERS),
      };
      return [status, { description: `error: ${list.map((code) => `\`${code}\``).join(', ')}`, headers, content: json(schema, example) }];
    }),
  );
}

/** What the route table leaves to the document: words, examples, and which headers and security apply. */
interface RouteDocs {
  tags: ['checks' | 'operations'];
  summary: string;
  description?: string;
  /** Sends the caller's RateLimit-* headers (a check, charged to its budgets). */
  charged?: boolean;
  /** The token may be asked for (PORT_CHECKER_API_TOKEN). */
  token?: boolean;
  requestExample?: unknown;
  responseDescription: string;
  responseExample: unknown;
}

const DOCS: Record<keyof typeof ROUTES, RouteDocs> = {
  checkPorts: {
    tags: ['checks'],
    summary: 'Check whether TCP ports of a host are reachable from the internet',
    description:
      'Probes every port at once with TCP connects (timeout, retries and delay as configured) and answers when all ' +
      'have finished, within the deadline (7 s by default): a port whose retries would not fit is answered with what ' +
      "its attempts found so far. Costs one port per unique port of the per-client budget (and, for someone else's " +
      'address, of the per-target budgets). Any answer other than 200 means: ask another checker.',
    charged: true,
    token: true,
    requestExample: { provider_ip: '203.0.113.7', ports: [7466, 50800] },
    responseDescription: 'one result per unique port, keyed by the port number',
    responseExample: {
      success: true,
      results: {
        7466: { accessible: true, error: null, state: 'open', attempts: 1, latency_ms: 0.4 },
        50800: { accessible: false, error: 'Connection refused', state: 'closed', attempts: 1, latency_ms: null },
      },
      message: 'Successfully verified 1 out of 2 ports',
      provider_ip: '203.0.113.7',
    },
  },
  checkTls: {
    tags: ['checks'],
    summary: "Check a TLS service's certificate as a client on the internet would see it",
    description:
      'One TLS handshake from a worker: valid when it completes in time, the chain verifies against the trust store ' +
      "(Node's CAs plus NODE_EXTRA_CA_CERTS), the certificate has not expired and, if given, expected_ip is among its " +
      'IP subject alternative names. Nothing is sent after the handshake. Costs one port of the budgets.',
    charged: true,
    token: true,
    requestExample: { host: '203.0.113.7', port: 443, expected_ip: '203.0.113.7' },
    responseDescription: 'the verdict; `valid: false` with a reason is still a 200',
    responseExample: { valid: true, error: null, peer: '203.0.113.7:443', not_after: '2027-03-01T12:00:00.000Z' },
  },
  whoami: {
    tags: ['checks'],
    summary: "The caller's address as this checker sees it, and what a check may ask for",
    description:
      'What a check without provider_ip probes, so that no outside what-is-my-IP service is needed; whether ' +
      'provider_ip may name another address; how many ports one request may carry. Needs no token.',
    responseDescription: "the caller's address and this checker's settings",
    responseExample: { address: '203.0.113.7', accepts_other_targets: true, max_ports_per_request: 128, api_token_required: false },
  },
  getReadiness: {
    tags: ['operations'],
    summary: 'Readiness: Redis answers and at least one worker is connected',
    responseDescription: 'ready to check ports',
    responseExample: { status: 'ready', workers: 2 },
  },
  getHealth: {
    tags: ['operations'],
    summary: 'Liveness: the process runs, whether or not Redis answers',
    responseDescription: 'alive',
    responseExample: { status: 'ok' },
  },
};

/**
 * The OpenAPI 3 document, generated from the contract's route table and the zod schemas the API
 * validates with: paths and shapes are never restated here, so the document cannot drift from the code.
 */
export function createOpenApiDocument(): ReturnType<OpenApiGeneratorV3['generateDocument']> {
  const registry = new OpenAPIRegistry();
  for (const [name, definition] of Object.entries(HEADERS)) registry.registerComponent('headers', name, definition);
  // Named schemas, nested ones included: clients generated from the document get these type names.
  const named = new Map<z.ZodType, z.ZodType>();
  const name = <T extends z.ZodType>(refId: string, schema: T, as: z.ZodType = schema): T => {
    const registered = registry.register(refId, as.meta({}) as T);
    named.set(schema, registered);
    return registered;
  };
  const state = name('PortState', PortState);
  const result = name('PortResult', PortResult, PortResult.extend({ state }));
  const results = z.record(z.string(), result).describe(CheckPortsResponse.shape.results.description ?? '');
  name('CheckPortsRequest', CheckPortsRequest);
  name('CheckPortsResponse', CheckPortsResponse, CheckPortsResponse.extend({ results }));
  name('ErrorResponse', ErrorResponse);
  name('ReadyResponse', ReadyResponse);
  name('CheckTlsRequest', CheckTlsRequest);
  name('CheckTlsResponse', CheckTlsResponse);
  name('WhoamiResponse', WhoamiResponse);
  name('HealthResponse', HealthResponse);

  // Needed only when PORT_CHECKER_API_TOKEN is set; declared so that "Try it out" can send it.
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'PORT_CHECKER_API_TOKEN, when the operator has set one',
  });
  const requestId = { 'X-Request-Id': header('X-Request-Id') };

  for (const [operationId, route] of Object.entries(ROUTES) as Array<[keyof typeof ROUTES, Route]>) {
    const docs = DOCS[operationId];
    const request = route.request && named.get(route.request);
    registry.registerPath({
      method: route.method,
      path: route.path,
      operationId,
      tags: docs.tags,
      summary: docs.summary,
      ...(docs.description && { description: docs.description }),
      // Either the token or nothing: an empty requirement keeps the token optional in the document.
      ...(docs.token && { security: [{ [bearer.name]: [] }, {}] }),
      ...(request && { request: { body: { required: true, content: json(request, docs.requestExample) } } }),
      responses: {
        200: {
          description: docs.responseDescription,
          headers: docs.charged ? { ...requestId, ...RATE_LIMIT_HEADERS } : requestId,
          content: json(named.get(route.response) ?? route.response, docs.responseExample),
        },
        ...errorResponses(route.errors, { rateLimited: docs.charged ?? false }),
      },
    });
  }

  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Golem port checker',
      version: VERSION,
      description: 'Tells Golem providers whether their TCP ports are reachable from the internet.',
    },
    tags: [
      { name: 'checks', description: 'What providers call' },
      { name: 'operations', description: 'For operators and their tools' },
    ],
  });
}
