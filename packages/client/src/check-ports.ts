import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CheckPortsRequest, CheckPortsResponse, ErrorResponse, MAX_PORTS_PER_REQUEST, ROUTES, type PortResult } from '@port-checker/contract';

export interface CheckPortsOptions {
  /** Base URLs of port checkers, asked in order until one answers. */
  servers: readonly string[];
  ports: readonly number[];
  /** Address to check; left out, each checker checks the address it sees the request from. */
  providerIp?: string | undefined;
  /** How long to wait for each checker (the provider's existing client waits 30 s). */
  timeoutMs: number;
  /** Token the ports' listeners send on accept; see `createChallenge`. */
  challenge?: string | undefined;
  /**
   * The ports whose listeners send `challenge` (default: all). The others, such as ports held by
   * another program, are asked without it, so the checker does not wait for a token that cannot come.
   */
  challengedPorts?: readonly number[] | undefined;
  /** Ports per request; more are split into several requests to the same checker. */
  maxPortsPerRequest?: number | undefined;
  /** Stops everything at once, e.g. on Ctrl-C; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Called after each checker is asked, whether or not its answer is used. */
  onAttempt?: ((attempt: ServerAttempt) => void) | undefined;
}

export interface ServerAttempt {
  server: string;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** Why this answer was not used; null for the one that was. */
  error: string | null;
  elapsedMs: number;
}

export interface CheckPortsResult {
  /** The checker whose answer this is. */
  server: string;
  /** The address that was checked. */
  providerIp: string;
  /** One entry per requested port, keyed by the port number. */
  results: Record<string, PortResult>;
  /** Every checker asked, in order; the last one answered. */
  attempts: ServerAttempt[];
}

/** No checker gave a usable answer; `attempts` says what each one did. */
export class CheckPortsError extends Error {
  override readonly name = 'CheckPortsError';
  constructor(readonly attempts: readonly ServerAttempt[]) {
    const reasons = attempts.map((attempt) => `${attempt.server}: ${attempt.error}`).join('; ');
    super(`no port checker answered: ${reasons}`);
  }
}

/** A fresh random token for `challenge`: 32 URL-safe characters. */
export function createChallenge(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Asks the checkers in order whether `ports` are reachable, moving on to the next one on a
 * network error, a timeout, an answer other than 200, or a 200 that is not a full, valid answer
 * (as the provider's existing client does). One checker answers for every port: when the ports
 * take several requests, it must answer them all. Throws CheckPortsError when none answers.
 */
export async function checkPorts(options: CheckPortsOptions): Promise<CheckPortsResult> {
  const { servers, providerIp, timeoutMs, challenge, signal, onAttempt } = options;
  const body = CheckPortsRequest.safeParse({ ports: options.ports, provider_ip: providerIp, challenge });
  if (!body.success) throw new TypeError(`invalid check: ${z.prettifyError(body.error)}`);
  if (servers.length === 0) throw new TypeError('invalid check: give at least one server');
  const endpoints = servers.map(checkPortsUrl);
  const requests = splitRequests(body.data, options.challengedPorts, options.maxPortsPerRequest ?? MAX_PORTS_PER_REQUEST);

  const attempts: ServerAttempt[] = [];
  for (const [index, server] of servers.entries()) {
    const started = performance.now();
    // One after another: a checker counts a client's ports in flight (128 by default), so requests
    // sent at once for more ports than that would be refused.
    const answers: Answer[] = [];
    for (const request of requests) {
      const answer = await ask(endpoints[index]!, request, timeoutMs, signal);
      answers.push(answer);
      if (!answer.response) break;
    }
    const failed = answers.find((answer) => !answer.response);
    const attempt = {
      server,
      status: failed ? failed.status : 200,
      error: failed ? failed.error : null,
      elapsedMs: Math.round(performance.now() - started),
    };
    attempts.push(attempt);
    onAttempt?.(attempt);
    if (!failed) {
      const results = Object.assign({}, ...answers.map((answer) => answer.response!.results)) as Record<string, PortResult>;
      return { server, providerIp: answers[0]!.response!.provider_ip, results, attempts };
    }
  }
  throw new CheckPortsError(attempts);
}

/** The requests one check takes: challenged ports with the challenge, the rest without, each at most `max` ports. */
function splitRequests(body: CheckPortsRequest, challengedPorts: readonly number[] | undefined, max: number): CheckPortsRequest[] {
  const ports = [...new Set(body.ports)];
  const challenged = new Set(body.challenge ? (challengedPorts ?? ports) : []);
  const groups = [
    { ...body, ports: ports.filter((port) => challenged.has(port)) },
    { ...body, ports: ports.filter((port) => !challenged.has(port)), challenge: undefined },
  ];
  return groups.flatMap((group) => {
    const requests: CheckPortsRequest[] = [];
    for (let start = 0; start < group.ports.length; start += max) requests.push({ ...group, ports: group.ports.slice(start, start + max) });
    return requests;
  });
}

type Answer = { status: number | null; error: string | null; response?: CheckPortsResponse };

/** A checker's base URL, such as `http://checker:9000` or `https://host/base/`, → its `check-ports` URL. */
export function checkPortsUrl(server: string): URL {
  const base = URL.canParse(server) ? new URL(server.endsWith('/') ? server : `${server}/`) : undefined;
  if (base?.protocol !== 'http:' && base?.protocol !== 'https:') {
    throw new TypeError(`${JSON.stringify(server)} is not an http:// or https:// URL`);
  }
  // Relative, so that a checker behind a path prefix keeps it.
  return new URL(`.${ROUTES.checkPorts.path}`, base);
}

async function ask(url: URL, body: CheckPortsRequest, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
  let response: Response;
  let text: string;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    text = await response.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    return { status: null, error: describeFailure(err, timeoutMs) };
  }
  const json = parseJson(text);
  if (response.status !== 200) {
    const detail = ErrorResponse.safeParse(json);
    const why = detail.success ? `${detail.data.detail.code}: ${detail.data.detail.message}` : response.statusText;
    return { status: response.status, error: `HTTP ${response.status} ${why}` };
  }
  const parsed = CheckPortsResponse.safeParse(json);
  if (!parsed.success) return { status: 200, error: `not a port checker's answer: ${z.prettifyError(parsed.error)}` };
  const missing = body.ports.filter((port) => !(String(port) in parsed.data.results));
  if (missing.length > 0) return { status: 200, error: `the answer leaves out port ${missing.join(', ')}` };
  return { status: 200, error: null, response: parsed.data };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  // fetch rejects with "fetch failed" and the reason as its cause; a host name with several
  // addresses fails with an AggregateError of one error per address.
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof AggregateError) return cause.errors.map((each) => String(each?.message ?? each)).join('; ');
  return cause instanceof Error ? cause.message : String(cause);
}
