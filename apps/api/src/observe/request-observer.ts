import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { hotLineLogger, parseIpLiteral, ROUTES, type Logger } from '@port-checker/shared';
import type { ApiMetrics } from './metrics.js';
import { RequestRecord, type CheckKind, type Outcome } from './request-record.js';

const QUIET_PATHS = new Set<string>([ROUTES.getHealth.path, ROUTES.getReadiness.path]);

/**
 * Gives each request its record (`res.locals.record`) and id (`X-Request-Id`, and the prefix of
 * its probe jobs' ids), and once the answer has gone out turns the record into its one log line
 * and its metrics: what a check asked, how it ended and how long it took. 5xx at error, 4xx at
 * info, probes of the service itself and repeated 401s at debug.
 */
export function observeRequests(parent: Logger, metrics: ApiMetrics): RequestHandler {
  // Every field of the line is one of those below; only an error's cause (`err`) can hold anything.
  const logger = hotLineLogger(parent, 'err');
  const unauthorized = onceAMinute();
  return (req, res, next) => {
    const record = new RequestRecord(randomUUID());
    const started = performance.now();
    res.locals.record = record;
    res.setHeader('X-Request-Id', record.id);
    res.once('close', () => {
      const { kind, summary: check, error, limit: rateLimitedBy } = record;
      const seconds = (performance.now() - started) / 1000;
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
        reqId: record.id,
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

/** Marks the requests of a check route as checks of `kind`, where the route is mounted. */
export function asCheck(kind: CheckKind): RequestHandler {
  return (_req, res, next) => {
    res.locals.record.checkOf(kind);
    next();
  };
}
