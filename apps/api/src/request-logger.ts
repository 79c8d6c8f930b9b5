import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { parseIpLiteral, type AppError, type Logger } from '@port-checker/shared';

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * One log line per request, written when the answer has gone out: what a check asked, how it
 * ended and how long it took. 5xx at error, 4xx at info, probes of the service itself at debug.
 */
export function requestLogger(logger: Logger): RequestHandler {
  const unauthorized = onceAMinute();
  return (req, res, next) => {
    const reqId = randomUUID();
    const started = performance.now();
    res.set('X-Request-Id', reqId);
    res.once('close', () => {
      const error = res.locals.error as AppError | undefined;
      const line = {
        reqId,
        method: req.method,
        path: req.path,
        client: req.ip && (parseIpLiteral(req.ip) ?? req.ip),
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(res.locals.check as object | undefined),
        // A check's outcome as the metrics count it: `ok`, or the error code.
        ...(res.locals.check && { outcome: error?.code ?? 'ok' }),
        ...(error && { code: error.code, ...(error.status >= 500 && error.cause ? { err: error.cause } : {}) }),
        ...(!res.writableFinished && { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error(line, 'request failed');
      else if (QUIET_PATHS.has(req.path)) logger.debug(line, 'request');
      // Someone guessing tokens would otherwise write a line per guess.
      else if (res.statusCode === 401 && !unauthorized.first(String(line.client))) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

const MINUTE_MS = 60_000;
/** Remembers at most this many clients a minute; past it, every 401 is a repeat. */
const MAX_REMEMBERED = 10_000;

/** Tells whether a key is seen for the first time this minute. */
function onceAMinute(): { first(key: string): boolean } {
  const seen = new Set<string>();
  setInterval(() => seen.clear(), MINUTE_MS).unref();
  return {
    first(key) {
      if (seen.has(key) || seen.size >= MAX_REMEMBERED) return false;
      seen.add(key);
      return true;
    },
  };
}
