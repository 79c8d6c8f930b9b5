// The environment the service reads, as one zod schema, and the parsers of its list-valued variables.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { MAX_PORTS_PER_REQUEST } from '@port-checker/contract';
import { MAX_VANTAGES, VANTAGE_ID, VANTAGE_LABEL } from './vantage.js';

const seconds = z.coerce.number().positive().finite();
const port = z.coerce.number().int().min(0).max(65535); // 0: any free port
const flag = z.stringbool();

/** Every variable the service reads. Nothing else in the code base reads `process.env`. */
export const Env = z.object({
  PORT_CHECKER_HOST: z.string().default('0.0.0.0'),
  PORT_CHECKER_PORT: port.default(9000),
  PORT_CHECKER_DEBUG: flag.default(false),
  PORT_CHECKER_ALLOW_LOCAL_IPS: flag.default(false),
  // Refused as targets like special-purpose ranges, by API and workers, local targets allowed or not.
  PORT_CHECKER_DENY_CIDRS: z.string().transform(parseCidrList).default([]),
  // `{name}` in braces: every key of the queue and the budgets in one Redis Cluster slot.
  PORT_CHECKER_QUEUE: z
    .string()
    .regex(/^(\{[\w.-]+\}|[\w.-]+)$/, 'letters, digits, "_", "." and "-" only, or all of it in braces (BullMQ refuses ":")')
    .default('port-checks'),
  // Exactly one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES (config.ts: redisTarget).
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_SENTINELS: z.string().transform(parseHostPorts(26379)).optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[\w.-]+$/, 'a master name as in sentinel.conf: letters, digits, "_", "." and "-"').optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z.string().transform(parseHostPorts(6379)).optional(),
  // With REDIS_SENTINELS or REDIS_CLUSTER_NODES: the password of the Redis servers, and TLS to them (and to the sentinels).
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS: flag.optional(),
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
  // BullMQ writes about four events per job into the queue's stream; results reach the API as
  // replies (probe-reply.ts), so nothing here reads it: kept short, for a person's look only.
  PORT_CHECK_EVENTS_MAX_LEN: z.coerce.number().int().min(0).default(1000),
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
  // Vantages (README "Probing from several vantages"): the API's side.
  PORT_CHECK_VANTAGES: z.coerce.number().int().min(1).max(MAX_VANTAGES).default(1),
  PORT_CHECK_QUORUM: z.coerce.number().int().min(1).max(MAX_VANTAGES).optional(),
  // A worker's side: which vantage it probes from, its labels, and the address its probes leave from.
  PORT_CHECKER_VANTAGE: z.string().regex(VANTAGE_ID, 'letters, digits, "_", "." and "-" only, at most 32').optional(),
  PORT_CHECKER_VANTAGE_REGION: z.string().regex(VANTAGE_LABEL, 'at most 64 printable characters').optional(),
  PORT_CHECKER_VANTAGE_NETWORK: z.string().regex(VANTAGE_LABEL, 'at most 64 printable characters').optional(),
  PORT_CHECKER_SOURCE_ADDRESS: z
    .string()
    .refine((text) => isIP(text) !== 0, 'must be an IPv4 or IPv6 address of this host, such as 203.0.113.7')
    .optional(),
});

/** The environment, parsed. */
export type Env = z.output<typeof Env>;

/** Names of every variable the service reads: documentation is checked against this list. */
export const ENV_VARIABLES: readonly string[] = Object.keys(Env.shape);

/**
 * Variables whose meaning changed under a new name. Set, they stop the start: silently ignoring
 * `PORT_CHECKER_RATE_LIMIT_MAX=60` would turn an operator's limit of 60 requests into 300 ports.
 */
export const RENAMED: Record<string, string> = {
  PORT_CHECKER_RATE_LIMIT_MAX: 'PORT_CHECKER_RATE_LIMIT_PORTS (it counts ports now, not requests)',
  PORT_CHECKER_TARGET_RATE_LIMIT_MAX: 'PORT_CHECKER_TARGET_RATE_LIMIT_PORTS',
  PORT_CHECKER_MAX_IN_FLIGHT: 'PORT_CHECKER_MAX_PORTS_IN_FLIGHT (it counts ports now, not checks)',
};

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port,host:port` (the port may be left out; an IPv6 address in brackets, `[::1]:26379`). */
function parseHostPorts(defaultPort: number) {
  return (text: string, ctx: z.RefinementCtx): HostPort[] => {
    const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const parsed = entries.map((entry) => {
      const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(entry);
      const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
      return match && port > 0 && port < 65536 ? { host: (match[1] ?? match[2])!, port } : undefined;
    });
    const bad = entries.find((_, index) => parsed[index] === undefined);
    if (bad !== undefined || entries.length === 0) {
      ctx.addIssue({ code: 'custom', message: `${bad === undefined ? 'no address' : `"${bad}" is not a host:port`}: give host:port,host:port,…` });
      return z.NEVER;
    }
    return parsed as HostPort[];
  };
}

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
