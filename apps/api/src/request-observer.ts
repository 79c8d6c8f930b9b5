import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { parseIpLiteral, type Logger } from '@port-checker/shared';
import { CHECK_PORTS_PATH } from './check-ports.route.js';
import { CHECK_TLS_PATH } from './check-tls.route.js';
import type { ApiMetrics } from './metrics.js';
import type { CheckRecord, Outcome } from './request-record.js';

const QUIET_PATHS = new Set(['/health', '/ready']);
const KIND_BY_PATH: Record<string, CheckRecord['kind']> = { [CHECK_PORTS_PATH]: 'ports', [CHECK_TLS_PATH]: 'tls' };

/**
 * Gives each request its id (`X-Request-Id`, and the prefix of its probe jobs' ids), and once the
 * answer has gone out turns what the request left in `res.locals` into its one log line and its
 * metrics: what a check asked, how it ended and how long it took. 5xx at error, 4xx at info,
 * probes of the service itself and repeated 401s at debug.
 */
export function observeRequests(logger: Logger, metrics: ApiMetrics): RequestHandler {
  const unauthorized = onceAMinute();
  return (req, res, next) => {
    const requestId = randomUUID();
    const started = performance.now();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.once('close', () => {
      const { check, error, rateLimitedBy } = res.locals;
      const seconds = (performance.now() - started) / 1000;
      const kind = req.method === 'POST' ? KIND_BY_PATH[req.path] : undefined;
      const outcome: Outcome = !res.writableFinished ? 'aborted' : error ? (error.code.toLowerCase() as Outcome) : 'ok';
      metrics.observe({
        route: routeOf(req, kind !== undefined),
        method: req.method,
        status: res.writableFinished ? String(res.statusCode) : 'aborted',
        seconds,
        ...(kind && { kind, outcome }),
        ...(check && { check }),
        ...(rateLimitedBy && { rateLimitedBy }),
      });

      const client = req.ip && (parseIpLiteral(req.ip) ?? req.ip);
      const line = {
        reqId: requestId,
        method: req.method,
        path: req.path,
        client,
        status: res.statusCode,
        durationMs: Math.round(seconds * 10_000) / 10,
        ...check,
        ...(kind && { outcome }),
        ...(error && { code: error.code, ...(error.status >= 500 && error.cause ? { err: error.cause } : {}) }),
        ...(!res.writableFinished && { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error(line, 'request failed');
      else if (QUIET_PATHS.has(req.path)) logger.debug(line, 'request');
      // Someone guessing tokens would otherwise write a line per guess.
      else if (res.statusCode === 401 && !unauthorized.first(String(client))) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

/**
 * The route template (`/docs/:file`), never the raw path, which anyone can vary at will.
 * A check refused before routing (a body that is not JSON) still counts under its route.
 */
function routeOf(req: Request, isCheck: boolean): string {
  const route = req.route as { path?: unknown } | undefined;
  if (typeof route?.path === 'string') return `${req.baseUrl}${route.path}`;
  return isCheck ? req.path : 'unmatched';
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
