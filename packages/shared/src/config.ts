import { existsSync } from 'node:fs';
import { Env, RENAMED, type TrustProxy } from './env.js';
import type { RedisTarget } from './redis-connection.js';
import type { VantageInfo } from './vantage.js';

export { ENV_VARIABLES, type TrustProxy } from './env.js';

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
  /** Where Redis is: one server, a Sentinel-monitored master, or a Cluster (redis-connection.ts connects to it). */
  readonly redis: RedisTarget;
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
  /** The API's side: how many vantages probe each port, and how many must answer (README "Probing from several vantages"). */
  readonly vantages: VantageSettings;
  /** A worker's side: the vantage it probes from, if any. */
  readonly vantage: VantageInfo | undefined;
  /** The address a worker's probes leave from (PORT_CHECKER_SOURCE_ADDRESS); the system's choice when unset. */
  readonly sourceAddress: string | undefined;
}

export interface VantageSettings {
  /** PORT_CHECK_VANTAGES: 1 probes each port once, from whichever worker takes the job, as always. */
  readonly count: number;
  /** PORT_CHECK_QUORUM: finished probes a port needs for a verdict; a majority of `count` by default. */
  readonly quorum: number;
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
  // A check from several vantages costs each port once per vantage.
  const largestCheck = e.PORT_CHECK_MAX_PORTS * e.PORT_CHECK_VANTAGES;
  if (inFlight > 0 && inFlight < largestCheck) {
    const times = e.PORT_CHECK_VANTAGES > 1 ? ` × PORT_CHECK_VANTAGES (${e.PORT_CHECK_VANTAGES})` : '';
    throw new ConfigError(
      `invalid configuration: PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT (${inFlight}) must be 0 or at least ` +
        `PORT_CHECK_MAX_PORTS (${e.PORT_CHECK_MAX_PORTS})${times}, or a request of that many ports could never run`,
    );
  }
  const vantageCount = e.PORT_CHECK_VANTAGES;
  const quorum = e.PORT_CHECK_QUORUM ?? Math.floor(vantageCount / 2) + 1;
  if (quorum > vantageCount) {
    throw new ConfigError(`invalid configuration: PORT_CHECK_QUORUM (${quorum}) must be at most PORT_CHECK_VANTAGES (${vantageCount})`);
  }
  const labelled = e.PORT_CHECKER_VANTAGE_REGION !== undefined || e.PORT_CHECKER_VANTAGE_NETWORK !== undefined;
  if (labelled && e.PORT_CHECKER_VANTAGE === undefined) {
    throw new ConfigError('invalid configuration: PORT_CHECKER_VANTAGE_REGION and _NETWORK label a vantage: set PORT_CHECKER_VANTAGE too');
  }
  const vantage: VantageInfo | undefined = e.PORT_CHECKER_VANTAGE === undefined
    ? undefined
    : Object.freeze({ id: e.PORT_CHECKER_VANTAGE, region: e.PORT_CHECKER_VANTAGE_REGION ?? null, network: e.PORT_CHECKER_VANTAGE_NETWORK ?? null });
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
    redis: redisTarget(e, e.PORT_CHECKER_QUEUE),
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
    vantages: Object.freeze({ count: vantageCount, quorum }),
    vantage,
    sourceAddress: e.PORT_CHECKER_SOURCE_ADDRESS,
    admin: Object.freeze({
      host: e.PORT_CHECKER_ADMIN_HOST,
      apiPort: e.PORT_CHECKER_ADMIN_PORT ?? 9001,
      workerPort: e.PORT_CHECKER_ADMIN_PORT ?? 9101,
    }),
  });
}

const REDIS_CHOICES = 'REDIS_URL (one Redis), REDIS_SENTINELS with REDIS_SENTINEL_NAME (Redis under Sentinel) or REDIS_CLUSTER_NODES (Redis Cluster)';

/** Which Redis to use: exactly one way of reaching it, with only the settings that belong to that way. */
function redisTarget(e: Env, queueName: string): RedisTarget {
  const given = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => e[name] !== undefined);
  const refuse = (why: string): never => {
    throw new ConfigError(`invalid configuration: ${why}`);
  };
  if (given.length !== 1) refuse(`${given.length === 0 ? 'no Redis given' : `${given.join(' and ')} are both set`}: set one of ${REDIS_CHOICES}`);
  const stray = (names: (keyof Env)[], why: string): void => {
    const set = names.filter((name) => e[name] !== undefined);
    if (set.length > 0) refuse(`${set.join(', ')} ${why}`);
  };
  const security = { ...(e.REDIS_PASSWORD !== undefined && { password: e.REDIS_PASSWORD }), tls: e.REDIS_TLS ?? false };
  if (e.REDIS_URL !== undefined) {
    stray(['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD', 'REDIS_TLS'], 'only go with REDIS_SENTINELS or REDIS_CLUSTER_NODES: with REDIS_URL, put the password in the URL (redis://:password@host) and use rediss:// for TLS');
    return { kind: 'url', url: e.REDIS_URL };
  }
  if (e.REDIS_SENTINELS !== undefined) {
    if (e.REDIS_SENTINEL_NAME === undefined) refuse('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the master name the sentinels monitor (as in "sentinel monitor <name> …")');
    return {
      kind: 'sentinel',
      sentinels: e.REDIS_SENTINELS,
      name: e.REDIS_SENTINEL_NAME!,
      ...(e.REDIS_SENTINEL_PASSWORD !== undefined && { sentinelPassword: e.REDIS_SENTINEL_PASSWORD }),
      ...security,
    };
  }
  stray(['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'], 'only go with REDIS_SENTINELS');
  // The budgets' script and BullMQ's own touch several keys at once: in a Cluster, only keys of one slot may.
  if (!/^\{.+\}$/.test(queueName)) {
    refuse(
      `REDIS_CLUSTER_NODES needs a queue name in braces, so that every key of the queue and of the budgets falls in one ` +
        `Cluster slot: set PORT_CHECKER_QUEUE={${queueName}}`,
    );
  }
  return { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES!, ...security };
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
