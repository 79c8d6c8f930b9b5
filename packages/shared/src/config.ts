import { existsSync } from 'node:fs';
import { z } from 'zod';

const seconds = z.coerce.number().positive().finite();
const port = z.coerce.number().int().min(0).max(65535); // 0: any free port
const flag = z.stringbool();

/** Every variable the service reads. Nothing else in the code base reads `process.env`. */
const Env = z.object({
  PORT_CHECKER_HOST: z.string().default('0.0.0.0'),
  PORT_CHECKER_PORT: port.default(9000),
  PORT_CHECKER_DEBUG: flag.default(false),
  PORT_CHECKER_ALLOW_LOCAL_IPS: flag.default(false),
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
  PORT_CHECK_MAX_PORTS: z.coerce.number().int().min(1).max(65535).default(128),
  PORT_CHECK_DEADLINE: seconds.max(600).optional(),
  PORT_CHECK_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(256),
  // Operations
  PORT_CHECK_WORKER_METRICS_PORT: port.default(9101),
});

/** Names of every variable the service reads: documentation is checked against this list. */
export const ENV_VARIABLES: readonly string[] = Object.keys(Env.shape);

export interface ProbeSettings {
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number;
  readonly retryRefused: boolean;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly debug: boolean;
  readonly allowLocalIps: boolean;
  readonly queueName: string;
  readonly redisUrl: string;
  readonly probe: ProbeSettings;
  readonly maxPorts: number;
  /** How long the API waits for a request's probes before answering CHECK_FAILED. */
  readonly deadlineMs: number;
  readonly workerConcurrency: number;
  /** Where a worker serves GET /metrics, on `host`; 0 picks a free port. */
  readonly workerMetricsPort: number;
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
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const probe: ProbeSettings = {
    retries: e.PORT_CHECK_RETRIES,
    retryDelayMs: Math.round(e.PORT_CHECK_RETRY_DELAY * 1000),
    timeoutMs: Math.round(e.PORT_CHECK_TIMEOUT * 1000),
    retryRefused: e.PORT_CHECK_RETRY_REFUSED,
  };
  return Object.freeze({
    host: e.PORT_CHECKER_HOST,
    port: e.PORT_CHECKER_PORT,
    debug: e.PORT_CHECKER_DEBUG,
    allowLocalIps: e.PORT_CHECKER_ALLOW_LOCAL_IPS,
    queueName: e.PORT_CHECKER_QUEUE,
    redisUrl: e.REDIS_URL,
    probe: Object.freeze(probe),
    maxPorts: e.PORT_CHECK_MAX_PORTS,
    deadlineMs:
      e.PORT_CHECK_DEADLINE !== undefined
        ? Math.round(e.PORT_CHECK_DEADLINE * 1000)
        : defaultDeadlineMs(probe),
    workerConcurrency: e.PORT_CHECK_WORKER_CONCURRENCY,
    workerMetricsPort: e.PORT_CHECK_WORKER_METRICS_PORT,
  });
}

/** Worst case of one port (every attempt times out, with the delays between) plus slack for the queue. */
export function defaultDeadlineMs(probe: ProbeSettings): number {
  return probe.retries * (probe.timeoutMs + probe.retryDelayMs) + 5000;
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
