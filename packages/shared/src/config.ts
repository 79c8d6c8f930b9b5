import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { MAX_PORTS_PER_REQUEST } from '@port-checker/contract';

const seconds = z.coerce.number().positive().finite();
const port = z.coerce.number().int().min(0).max(65535); // 0: any free port
const flag = z.stringbool();

/** Every variable the service reads. Nothing else in the code base reads `process.env`. */
const Env = z.object({
  PORT_CHECKER_HOST: z.string().default('0.0.0.0'),
  PORT_CHECKER_PORT: port.default(9000),
  PORT_CHECKER_DEBUG: flag.default(false),
  PORT_CHECKER_ALLOW_LOCAL_IPS: flag.default(false),
  // Refused as targets like special-purpose ranges, by API and workers, local targets allowed or not.
  PORT_CHECKER_DENY_CIDRS: z.string().transform(parseCidrList).default([]),
  PORT_CHECKER_QUEUE: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, "_", "." and "-" only (BullMQ refuses ":")')
    .default('port-checks'),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .default('redis://127.0.0.1:6379'),
  PORT_CHECK_RETRIES: z.coerce.number().int().min(1).max(10).default(3),
  PORT_CHECK_RETRY_DELAY: z.coerce.number().min(0).max(60).default(1),
  PORT_CHECK_TIMEOUT: seconds.max(60).default(5),
  PORT_CHECK_RETRY_REFUSED: flag.default(false),
  PORT_CHECK_MAX_PORTS: z.coerce.number().int().min(1).max(65535).default(MAX_PORTS_PER_REQUEST),
  // Fits today's provider, which gives each request 8 s (README "Deadline and retries").
  PORT_CHECK_DEADLINE: seconds.max(600).default(7),
  PORT_CHECK_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(256),

  // Overload and slow clients (see the README's "Reliability" section for the reasoning).
  PORT_CHECK_MAX_BACKLOG: z.coerce.number().int().min(0).default(20_000),
  PORT_CHECKER_MAX_PORTS_IN_FLIGHT: z.coerce.number().int().min(1).default(4096),
  PORT_CHECKER_HEADERS_TIMEOUT: seconds.max(600).default(10),
  PORT_CHECKER_REQUEST_TIMEOUT: seconds.max(600).default(15),
  PORT_CHECKER_KEEP_ALIVE_TIMEOUT: seconds.max(600).default(5),
  // Each job writes about four events (added, waiting, active, completed), so BullMQ's default
  // of 10,000 keeps only ~2,500 jobs and a burst would trim completions before the API reads them.
  PORT_CHECK_EVENTS_MAX_LEN: z.coerce.number().int().min(1000).default(200_000),
  // Abuse protection (README "Security").
  PORT_CHECKER_API_TOKEN: z
    .string()
    .regex(/^[\w.~+/-]{16,}=*$/, 'at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (a Bearer token)')
    .optional(),
  // Budgets count ports (README "Budgets"): 300 lets a provider start twice a minute (2 × 102 ports).
  PORT_CHECKER_RATE_LIMIT_PORTS: z.coerce.number().int().min(0).default(300),
  PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_56: z.coerce.number().int().min(0).optional(),
  PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_48: z.coerce.number().int().min(0).optional(),
  PORT_CHECKER_RATE_LIMIT_WINDOW: z.coerce.number().int().min(1).max(86_400).default(60),
  PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: z.coerce.number().int().min(0).default(128),
  PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT_IPV6_56: z.coerce.number().int().min(0).optional(),
  PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT_IPV6_48: z.coerce.number().int().min(0).optional(),
  PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: z.coerce.number().int().min(0).default(1000),
  PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS: z.coerce.number().int().min(0).default(4000),
  PORT_CHECKER_SELF_CHECK_ONLY: flag.default(false),
  PORT_CHECKER_TRUST_PROXY: z.string().transform(parseTrustProxy).default(false),
  // Off by default: any website could otherwise spend its visitors' addresses on checks.
  PORT_CHECKER_CORS_ORIGINS: z.string().transform(parseCorsOrigins).default([]),
  // Operations: GET /metrics of each app, on a listener of its own (README "Security").
  PORT_CHECKER_ADMIN_HOST: z.string().default('127.0.0.1'),
  PORT_CHECKER_ADMIN_PORT: port.optional(),
});

/** Names of every variable the service reads: documentation is checked against this list. */
export const ENV_VARIABLES: readonly string[] = Object.keys(Env.shape);

/**
 * Variables whose meaning changed under a new name. Set, they stop the start: silently ignoring
 * `PORT_CHECKER_RATE_LIMIT_MAX=60` would turn an operator's limit of 60 requests into 300 ports.
 */
const RENAMED: Record<string, string> = {
  PORT_CHECKER_RATE_LIMIT_MAX: 'PORT_CHECKER_RATE_LIMIT_PORTS (it counts ports now, not requests)',
  PORT_CHECKER_TARGET_RATE_LIMIT_MAX: 'PORT_CHECKER_TARGET_RATE_LIMIT_PORTS',
  PORT_CHECKER_MAX_IN_FLIGHT: 'PORT_CHECKER_MAX_PORTS_IN_FLIGHT (it counts ports now, not checks)',
};

/** What Express's `trust proxy` takes: all or nothing, a hop count, or the proxies' addresses and subnets. */
export type TrustProxy = boolean | number | string[];

// proxy-addr's names for address ranges, accepted in PORT_CHECKER_TRUST_PROXY's list.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(text: string, ctx: z.RefinementCtx): TrustProxy {
  const value = text.trim().toLowerCase();
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !PROXY_RANGE_NAMES.has(entry) && isIP(entry) === 0 && !isCidr(entry));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${bad}" is not a hop count, true/false, an address, a CIDR subnet or loopback/linklocal/uniquelocal`,
    });
    return z.NEVER;
  }
  return entries;
}

/**
 * An IPv4-mapped subnet (::ffff:a.b.c.d/n, n ≥ 96) as the IPv4 subnet it names; any other entry as
 * it is; undefined for a mapped entry wider than the mapped space, which names no IPv4 subnet.
 */
function unmappedCidr(entry: string): string | undefined {
  const [network, bits] = ipaddr.parseCIDR(entry);
  if (network.kind() !== 'ipv6' || !(network as ipaddr.IPv6).isIPv4MappedAddress()) return entry;
  if (bits < 96) return undefined;
  return `${(network as ipaddr.IPv6).toIPv4Address().toString()}/${bits - 96}`;
}

function isCidr(text: string): boolean {
  const [address = '', bits = ''] = text.split('/');
  if (isIP(address) === 0 || !/^\d+$/.test(bits)) return false;
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

function parseCidrList(text: string, ctx: z.RefinementCtx): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const bad = entries.find((entry) => !isCidr(entry));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not a CIDR subnet such as 168.63.129.16/32 or 2001:db8::/32` });
    return z.NEVER;
  }
  // Targets are judged in IPv4 form (parseIpLiteral unwraps ::ffff:a.b.c.d): so are the entries that name them.
  const canonical = entries.map(unmappedCidr);
  const wide = entries.find((_, index) => canonical[index] === undefined);
  if (wide !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${wide}" reaches outside the IPv4-mapped space ::ffff:0:0/96: name the IPv4 subnet instead` });
    return z.NEVER;
  }
  return canonical as string[];
}

function parseCorsOrigins(text: string, ctx: z.RefinementCtx): '*' | string[] {
  if (text.trim() === '*') return '*';
  const origins = text.split(',').map((origin) => origin.trim());
  const bad = origins.find((origin) => !URL.canParse(origin) || new URL(origin).origin !== origin);
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not an origin such as https://example.com` });
    return z.NEVER;
  }
  return origins;
}

export interface ProbeSettings {
  /** PORT_CHECK_RETRIES, named as the Golem checker named it: the most attempts a probe makes, the first included. */
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
  readonly retryRefused: boolean;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly debug: boolean;
  readonly allowLocalIps: boolean;
  /** Subnets never probed, whatever else allows them (PORT_CHECKER_DENY_CIDRS). */
  readonly denyCidrs: readonly string[];
  readonly queueName: string;
  readonly redisUrl: string;
  readonly probe: ProbeSettings;
  readonly maxPorts: number;
  /** How long the API waits for a request's probes; probes end early enough to be answered by then. */
  readonly deadlineMs: number;
  readonly workerConcurrency: number;
  /** Entries kept in the queue's event stream: about four per job, so size it for the peak burst. */
  readonly eventsMaxLen: number;
  /** Waiting jobs beyond which checks are turned away; ports one API process waits on at once. */
  readonly overload: { readonly maxBacklog: number; readonly maxPortsInFlight: number; readonly maxPortsPerRequest: number };
  /** Bounds on how slowly a client may send a request, and how long an idle keep-alive lasts. */
  readonly http: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number; readonly keepAliveTimeoutMs: number };
  /** Where each app serves GET /metrics: apart from the API's public port, loopback by default. */
  readonly admin: AdminSettings;
  readonly security: SecuritySettings;
}

export interface AdminSettings {
  readonly host: string;
  /** PORT_CHECKER_ADMIN_PORT, else 9001 for the API and 9101 for a worker; 0 picks a free port. */
  readonly apiPort: number;
  readonly workerPort: number;
}

export interface SecuritySettings {
  /** Required as `Authorization: Bearer <token>` on the check routes when set. */
  readonly apiToken: string | undefined;
  readonly budgets: Budgets;
  /** Only the caller's own address may be checked. */
  readonly selfCheckOnly: boolean;
  readonly trustProxy: TrustProxy;
  /** Origins browsers may call the API from; none by default. */
  readonly corsOrigins: '*' | readonly string[];
}

/** Ports a check may cost, per window, by whom; 0 turns one off. A TLS check costs one port. */
export interface Budgets {
  readonly windowSeconds: number;
  /** Per client: an IPv4 address or an IPv6 /64. */
  readonly clientPorts: number;
  /** Per IPv6 /56 and /48 of clients, so rotating /64s buys a bounded multiple only. */
  readonly clientPortsPer56: number;
  readonly clientPortsPer48: number;
  /** Ports one client has being checked at once (in every API replica together). */
  readonly clientPortsInFlight: number;
  /** The same for all clients of an IPv6 /56 and /48 together. */
  readonly clientPortsInFlightPer56: number;
  readonly clientPortsInFlightPer48: number;
  /** Per target address (an IPv6 /64), charged only for checks of someone else's address. */
  readonly targetPorts: number;
  /** Per target network: IPv4 /24, IPv6 /48. */
  readonly targetNetworkPorts: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once, at start. Empty strings count as unset, so `FOO=` in a
 * compose file or `.env` falls back to the default instead of failing to parse.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const renamed = Object.keys(RENAMED).filter((name) => name in present);
  if (renamed.length > 0) {
    throw new ConfigError(`renamed variables: ${renamed.map((name) => `${name} is now ${RENAMED[name]}`).join('; ')}`);
  }
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const inFlight = e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT;
  if (inFlight > 0 && inFlight < e.PORT_CHECK_MAX_PORTS) {
    throw new ConfigError(
      `invalid configuration: PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT (${inFlight}) must be 0 or at least ` +
        `PORT_CHECK_MAX_PORTS (${e.PORT_CHECK_MAX_PORTS}), or a request of that many ports could never run`,
    );
  }
  const probe: ProbeSettings = {
    maxAttempts: e.PORT_CHECK_RETRIES,
    retryDelayMs: Math.round(e.PORT_CHECK_RETRY_DELAY * 1000),
    timeoutMs: Math.round(e.PORT_CHECK_TIMEOUT * 1000),
    retryRefused: e.PORT_CHECK_RETRY_REFUSED,
  };
  return Object.freeze({
    host: e.PORT_CHECKER_HOST,
    port: e.PORT_CHECKER_PORT,
    debug: e.PORT_CHECKER_DEBUG,
    allowLocalIps: e.PORT_CHECKER_ALLOW_LOCAL_IPS,
    denyCidrs: Object.freeze(e.PORT_CHECKER_DENY_CIDRS),
    queueName: e.PORT_CHECKER_QUEUE,
    redisUrl: e.REDIS_URL,
    probe: Object.freeze(probe),
    maxPorts: e.PORT_CHECK_MAX_PORTS,
    deadlineMs: Math.round(e.PORT_CHECK_DEADLINE * 1000),
    workerConcurrency: e.PORT_CHECK_WORKER_CONCURRENCY,
    eventsMaxLen: e.PORT_CHECK_EVENTS_MAX_LEN,
    overload: Object.freeze({
      maxBacklog: e.PORT_CHECK_MAX_BACKLOG,
      maxPortsInFlight: e.PORT_CHECKER_MAX_PORTS_IN_FLIGHT,
      maxPortsPerRequest: e.PORT_CHECK_MAX_PORTS,
    }),
    http: Object.freeze({
      headersTimeoutMs: Math.round(e.PORT_CHECKER_HEADERS_TIMEOUT * 1000),
      requestTimeoutMs: Math.round(Math.max(e.PORT_CHECKER_REQUEST_TIMEOUT, e.PORT_CHECKER_HEADERS_TIMEOUT) * 1000),
      keepAliveTimeoutMs: Math.round(e.PORT_CHECKER_KEEP_ALIVE_TIMEOUT * 1000),
    }),
    security: Object.freeze({
      apiToken: e.PORT_CHECKER_API_TOKEN,
      budgets: Object.freeze({
        windowSeconds: e.PORT_CHECKER_RATE_LIMIT_WINDOW,
        clientPorts: e.PORT_CHECKER_RATE_LIMIT_PORTS,
        clientPortsPer56: e.PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_56 ?? 4 * e.PORT_CHECKER_RATE_LIMIT_PORTS,
        clientPortsPer48: e.PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_48 ?? 16 * e.PORT_CHECKER_RATE_LIMIT_PORTS,
        clientPortsInFlight: e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT,
        clientPortsInFlightPer56: e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT_IPV6_56 ?? 4 * e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT,
        clientPortsInFlightPer48: e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT_IPV6_48 ?? 16 * e.PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT,
        targetPorts: e.PORT_CHECKER_TARGET_RATE_LIMIT_PORTS,
        targetNetworkPorts: e.PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS,
      }),
      selfCheckOnly: e.PORT_CHECKER_SELF_CHECK_ONLY,
      trustProxy: e.PORT_CHECKER_TRUST_PROXY,
      corsOrigins: e.PORT_CHECKER_CORS_ORIGINS,
    }),
    admin: Object.freeze({
      host: e.PORT_CHECKER_ADMIN_HOST,
      apiPort: e.PORT_CHECKER_ADMIN_PORT ?? 9001,
      workerPort: e.PORT_CHECKER_ADMIN_PORT ?? 9101,
    }),
  });
}

/**
 * For `main`: reads `.env` from the working directory if there is one (the real environment wins),
 * and stops the process with a message naming the bad variable.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    if (env === process.env && existsSync('.env')) process.loadEnvFile('.env');
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
