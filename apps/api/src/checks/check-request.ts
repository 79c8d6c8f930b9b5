import type { z } from 'zod';
import { AppError, CheckPortsRequest, CheckTlsRequest, isAllowedTarget, isDeniedTarget, parseIpLiteral } from '@port-checker/shared';

export interface CheckTarget {
  /** Canonical IP literal to probe. */
  host: string;
  /** Unique ports, in the order first given. */
  ports: number[];
  /** Token the probed ports must send back to count as verified. */
  challenge?: string;
  /** As many vantages as the caller asked for (at most the checker's own number), if it asked. */
  vantages?: number;
}

export interface CheckRequestPolicy {
  maxPorts: number;
  allowLocalIps: boolean;
  /** Subnets refused whatever else allows them (PORT_CHECKER_DENY_CIDRS). */
  denyCidrs: readonly string[];
  /** Only the caller's own address may be checked (PORT_CHECKER_SELF_CHECK_ONLY). */
  selfCheckOnly?: boolean;
  /** The most vantages a check may ask (PORT_CHECK_VANTAGES); 1 by default. */
  vantages?: number;
}

/**
 * Turns a request body into what to probe, or throws the AppError that tells the caller what
 * to fix. Nothing is enqueued before this has passed, target policy included. `callerIp` is
 * canonical already (`callerAddress`), so it compares with the canonical host as it is.
 */
export function parseCheckRequest(body: unknown, callerIp: string | undefined, policy: CheckRequestPolicy): CheckTarget {
  const parsed = CheckPortsRequest.safeParse(body);
  if (!parsed.success) throw toValidationError(body, parsed.error);

  const given = parsed.data.provider_ip ?? callerIp;
  const host = given === undefined ? undefined : parseIpLiteral(given);
  if (host === undefined) {
    throw new AppError('INVALID_IP', `provider_ip must be a plain IPv4 or IPv6 address, got ${JSON.stringify(given)}`);
  }
  const ports = [...new Set(parsed.data.ports)];
  if (ports.length > policy.maxPorts) {
    throw new AppError('TOO_MANY_PORTS', `at most ${policy.maxPorts} different ports per request, got ${ports.length}`);
  }
  const { challenge } = parsed.data;
  const vantages = askedVantages(parsed.data.vantages, policy);
  checkTarget(host, callerIp, policy);
  // A challenge tells whether a service sends a given string first: asked of a stranger's
  // address it would read their banners for the caller, one guess at a time.
  if (challenge != null && host !== callerIp) {
    throw new AppError(
      'FORBIDDEN_TARGET',
      `a challenge is only checked at the address the request comes from (${callerIp ?? 'unknown'}), not ${host}: ` +
        'leave provider_ip out, or ask from the machine to be checked',
    );
  }
  return { host, ports, ...(challenge != null && { challenge }), ...(vantages !== undefined && { vantages }) };
}

export interface TlsCheckTarget {
  host: string;
  port: number;
  /** Canonical IP literal the certificate must name. */
  expectedIp?: string;
  /** As many vantages as the caller asked for (at most the checker's own number), if it asked. */
  vantages?: number;
}

/** `POST /check-tls`'s body, validated and judged by the same target policy as a port check. */
export function parseTlsCheckRequest(body: unknown, callerIp: string | undefined, policy: CheckRequestPolicy): TlsCheckTarget {
  const parsed = CheckTlsRequest.safeParse(body);
  if (!parsed.success) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError('INVALID_REQUEST', 'the request body must be a JSON object such as {"host": "203.0.113.7", "port": 443}');
    }
    const [field] = parsed.error.issues[0]!.path;
    if (field === 'vantages') throw new AppError('INVALID_REQUEST', 'vantages must be a whole number of vantages, at least 1');
    if (field === 'port') throw new AppError('INVALID_PORT', 'port must be an integer from 1 to 65535');
    throw new AppError('INVALID_IP', `${String(field)} must be a string holding an IPv4 or IPv6 address`);
  }
  const host = parseIpLiteral(parsed.data.host);
  if (host === undefined) {
    throw new AppError('INVALID_IP', `host must be a plain IPv4 or IPv6 address, got ${JSON.stringify(parsed.data.host)}`);
  }
  const given = parsed.data.expected_ip;
  const expectedIp = given == null ? undefined : parseIpLiteral(given);
  if (given != null && expectedIp === undefined) {
    throw new AppError('INVALID_IP', `expected_ip must be a plain IPv4 or IPv6 address, got ${JSON.stringify(given)}`);
  }
  const vantages = askedVantages(parsed.data.vantages, policy);
  checkTarget(host, callerIp, policy);
  return { host, port: parsed.data.port, ...(expectedIp !== undefined && { expectedIp }), ...(vantages !== undefined && { vantages }) };
}

/**
 * The vantages a request asks for, if any: fewer than the checker's own number is the caller's
 * choice of less certainty; more would multiply what the target sees, and is refused.
 */
function askedVantages(vantages: number | null | undefined, policy: CheckRequestPolicy): number | undefined {
  const most = policy.vantages ?? 1;
  if (vantages != null && vantages > most) {
    throw new AppError('INVALID_REQUEST', `vantages must be from 1 to ${most}: this checker probes from at most ${most}, got ${vantages}`);
  }
  return vantages ?? undefined;
}

/** Throws FORBIDDEN_TARGET for a host this checker must not connect to. */
function checkTarget(host: string, callerIp: string | undefined, policy: CheckRequestPolicy): void {
  if (policy.selfCheckOnly && host !== callerIp) {
    throw new AppError(
      'FORBIDDEN_TARGET',
      `this checker only checks the address a request comes from (${callerIp ?? 'unknown'}), not ${host}: ` +
        'leave provider_ip out, or ask from the machine to be checked',
    );
  }
  if (isDeniedTarget(host, policy.denyCidrs)) {
    throw new AppError('FORBIDDEN_TARGET', `${host} is not checked here: its operator excludes it (PORT_CHECKER_DENY_CIDRS)`);
  }
  if (!isAllowedTarget(host, policy.allowLocalIps)) {
    throw new AppError(
      'FORBIDDEN_TARGET',
      `${host} is not a public address (private, loopback, reserved or documentation range); only public addresses are checked`,
    );
  }
}

function toValidationError(body: unknown, error: z.ZodError): AppError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new AppError('INVALID_REQUEST', 'the request body must be a JSON object such as {"ports": [7466]}');
  }
  const issue = error.issues[0]!;
  const [field, index] = issue.path;
  if (field === 'provider_ip') {
    return new AppError('INVALID_IP', 'provider_ip must be a string holding an IPv4 or IPv6 address');
  }
  if (field === 'vantages') return new AppError('INVALID_REQUEST', 'vantages must be a whole number of vantages, at least 1');
  if (field === 'challenge') {
    return new AppError('INVALID_REQUEST', 'challenge must be a string of 16 to 64 URL-safe characters: A-Z, a-z, 0-9, "_" and "-"');
  }
  if (field === 'ports' && typeof index === 'number') {
    const value = (body as { ports: unknown[] }).ports[index];
    return new AppError('INVALID_PORT', `ports[${index}] is ${describe(value)}: a port must be an integer from 1 to 65535`);
  }
  return new AppError('INVALID_REQUEST', 'ports must be a non-empty array of port numbers, e.g. {"ports": [7466, 50800]}');
}

/** A short, safe rendering of a value the caller sent: deeply nested JSON would overflow JSON.stringify. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
