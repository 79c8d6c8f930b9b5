import type { Request, RequestHandler } from 'express';
import { Gauge, type Registry } from 'prom-client';
import {
  createMetrics,
  PortState,
  type AppError,
  type Logger,
  type ProbeOutcome,
} from '@port-checker/shared';
import { CHECK_PORTS_PATH } from './check-ports.route.js';
import { JOB_STATES, type PortChecker } from './port-checker.js';

export interface ApiMetrics {
  registry: Registry;
  /** Middleware that counts every request once its answer has gone out. */
  record: RequestHandler;
}

/** Limits a request can be refused by; the rate limiter names the one in `res.locals.rateLimitedBy`. */
const RATE_LIMITS = ['client', 'target'];

/**
 * The API's metrics. Labels are route templates, methods, statuses, states and error codes:
 * never an address or a port number, which would make a series per target.
 */
export function createApiMetrics(checker: PortChecker, logger: Logger): ApiMetrics {
  const { registry, counter, histogram } = createMetrics();
  const registers = [registry];
  const http = ['route', 'method', 'status'] as const;
  const httpRequests = counter(
    'port_checker_http_requests_total',
    'HTTP requests answered, by route template, method and status',
    http,
  );
  const httpDuration = histogram(
    'port_checker_http_request_duration_seconds',
    'Time from request to answer, by route template, method and status',
    http,
  );
  const checkRequests = counter(
    'port_checker_check_requests_total',
    'POST /check-ports requests by outcome: ok, or the error code answered',
    ['outcome'],
  );
  const checkDuration = histogram(
    'port_checker_check_duration_seconds',
    'End-to-end time of valid check requests, from request to answer, by outcome',
    ['outcome'],
  );
  const portsChecked = counter('port_checker_ports_checked_total', 'Ports answered in a 200, by state', ['state']);
  const rateLimited = counter(
    'port_checker_rate_limited_requests_total',
    'Requests refused with 429, by the limit they hit',
    ['limit'],
  );
  // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
  for (const state of PortState.options) portsChecked.inc({ state }, 0);
  for (const limit of RATE_LIMITS) rateLimited.inc({ limit }, 0);
  checkRequests.inc({ outcome: 'ok' }, 0);

  // Read from Redis when scraped. While Redis does not answer, the queue gauges keep their last
  // values (a graph or alert on them does not break off) and port_checker_redis_up says 0.
  const unreadable = (err: unknown): void => {
    logger.debug({ err: { message: (err as Error).message } }, 'queue metrics not read: Redis does not answer');
  };
  new Gauge({
    name: 'port_checker_queue_jobs',
    help: 'Probe jobs in the queue by state (waiting, active, delayed), read when scraped; the last values while Redis is away',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      try {
        const counts = await checker.countJobs();
        for (const state of JOB_STATES) this.set({ state }, counts[state]);
      } catch (err) {
        unreadable(err);
      }
    },
  });
  new Gauge({
    name: 'port_checker_workers',
    help: 'Workers connected to the queue, in any process, read when scraped; the last value while Redis is away',
    registers,
    async collect() {
      try {
        this.set(await checker.countWorkers());
      } catch (err) {
        unreadable(err);
      }
    },
  });
  new Gauge({
    name: 'port_checker_redis_up',
    help: '1 when Redis answered the scrape, 0 when it did not',
    registers,
    async collect() {
      this.set(await checker.countWorkers().then(() => 1, () => 0));
    },
  });

  const record: RequestHandler = (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const isCheck = req.method === 'POST' && req.path === CHECK_PORTS_PATH;
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const labels = { route: routeOf(req, isCheck), method: req.method, status };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
      if (res.statusCode === 429) rateLimited.inc({ limit: String(res.locals.rateLimitedBy ?? 'client') });
      if (!isCheck) return;

      const error = res.locals.error as AppError | undefined;
      const outcome = !res.writableFinished ? 'aborted' : (error?.code.toLowerCase() ?? 'ok');
      checkRequests.inc({ outcome });
      if (res.locals.check) checkDuration.observe({ outcome }, seconds);
      const outcomes = res.locals.outcomes as ReadonlyMap<number, ProbeOutcome> | undefined;
      if (outcome === 'ok') for (const { state } of outcomes?.values() ?? []) portsChecked.inc({ state });
    });
    next();
  };

  return { registry, record };
}

/**
 * The route template (`/docs/:file`), never the raw path, which anyone can vary at will.
 * A check refused before routing (a body that is not JSON) still counts under its route.
 */
function routeOf(req: Request, isCheck: boolean): string {
  const route = req.route as { path?: unknown } | undefined;
  if (typeof route?.path === 'string') return `${req.baseUrl}${route.path}`;
  return isCheck ? CHECK_PORTS_PATH : 'unmatched';
}

/** GET /metrics in Prometheus' text format. */
export function serveMetrics(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
}
