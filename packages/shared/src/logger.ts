import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  name: string;
  debug?: boolean;
  /** Where JSON lines go; tests pass a stream and parse them. Defaults to stdout. */
  destination?: pino.DestinationStream;
  /** Human-readable lines instead of JSON; by default when stdout is a terminal (a person reads it). */
  pretty?: boolean;
}

const CENSOR = '[redacted]';

/** Where a secret may sit in a line; a leading `*` is any field. */
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.token',
  'token',
  'apiToken',
  '*.apiToken',
  '*.*.apiToken',
  // A Redis URL may carry a password; so may a Config's `redis` (RedisTarget).
  'redisUrl',
  '*.redisUrl',
  'redis.url',
  '*.redis.url',
  'password',
  '*.password',
  '*.*.password',
  'sentinelPassword',
  '*.sentinelPassword',
  '*.*.sentinelPassword',
];

/**
 * The one logger factory: JSON lines for machines (compose, the journal, pipes), pretty lines for a
 * person at a terminal, debug level only when asked; secrets never written.
 */
export function createLogger({ name, debug = false, destination, pretty = process.stdout.isTTY === true }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = { name, level: debug ? 'debug' : 'info', redact: { paths: SECRET_PATHS, censor: CENSOR } };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty' } });
  // Asynchronous writes: lines written while one write is under way go out together, not one
  // syscall per request line (a visible cost under load). pino flushes what is left at exit. Not
  // held back for a fuller buffer (minLength): that saved ~3 % of the API's CPU, but the last lines
  // before a crash or an OOM kill, those most wanted, would be lost.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

/**
 * A child of `logger` for a line written per request, whose fields are known but for `open`
 * (an error's cause, say): the secret paths that start at any field start at `open` instead.
 * pino runs every path that starts with `*` over every field of every line, about 30 µs a line
 * (measured on Node 24); a path that starts at a named field costs nothing on a line without it.
 */
export function hotLineLogger(logger: Logger, open: string): Logger {
  const paths = SECRET_PATHS.map((path) => (path.startsWith('*.') ? `${open}${path.slice(1)}` : path));
  return logger.child({}, { redact: { paths, censor: CENSOR } });
}
