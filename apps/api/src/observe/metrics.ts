import { Counter, Gauge, type Registry } from 'prom-client';
import { countRedisConnectionErrors, createMetrics, Limit, PortState, type Logger, type RedisWatch, type VantageSettings } from '@port-checker/shared';
import type { Budgets } from '../budgets/budgets.js';
import { JOB_STATES, type ProbeQueue } from '../queue/probe-queue.js';
import { CHECK_KINDS, type CheckKind, type CheckSummary, type Outcome } from './request-record.js';

/** One answered request, as the request observer saw it. */
export interface RequestObservation {
  /** The route template, or `unmatched`. */
  route: string;
  method: string;
  /** The status sent, or `aborted`. */
  status: string;
  seconds: number;
  /** Only for the check routes. */
  kind?: CheckKind;
  outcome?: Outcome;
  check?: CheckSummary;
  rateLimitedBy?: Limit;
}

export interface ApiMetrics {
  registry: Registry;
  /** Counts a request once its answer has gone out. */
  observe(observation: RequestObservation): void;
}

/** What the API's metrics read besides the queue; each absent, its metrics are not there. */
export interface ApiMetricsSources {
  redisWatch?: RedisWatch;
  budgets?: Pick<Budgets, 'refundsFailed'>;
  /** The checker's own vantage settings: with more than one, the live vantages and the quorum are gauges. */
  vantages?: VantageSettings;
}

/** Distinct values of the `vantage` label, so that a Redis full of made-up vantages cannot make series without end. */
const MAX_VANTAGE_LABELS = 32;

/**
 * The API's metrics. Labels are route templates, methods, statuses, states and error codes:
 * never an address or a port number, which would make a series per target.
 */
export function createApiMetrics(queue: ProbeQueue, logger: Logger, { redisWatch, budgets, vantages }: ApiMetricsSources = {}): ApiMetrics {
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
    'Check requests by kind (ports: POST /check-ports, tls: POST /check-tls) and outcome: ok, or the error code answered',
    ['kind', 'outcome'],
  );
  const checkDuration = histogram(
    'port_checker_check_duration_seconds',
    'End-to-end time of valid check requests, from request to answer, by kind and outcome',
    ['kind', 'outcome'],
  );
  const portsChecked = counter('port_checker_ports_checked_total', 'Ports answered in a 200, by state', ['state']);
  const rateLimited = counter(
    'port_checker_rate_limited_requests_total',
    'Requests refused with 429, by the limit they hit (budgets in ports per client, client network, target, target network; ports in flight per client)',
    ['limit'],
  );
  const vantageProbes = counter(
    'port_checker_vantage_probes_total',
    'Probes of ports answered in a 200 from several vantages (PORT_CHECK_VANTAGES > 1), by vantage and status: finished, timed_out or offline',
    ['vantage', 'status'],
  );
  const splitPorts = counter(
    'port_checker_vantage_split_ports_total',
    "Ports answered from several vantages whose finished probes did not all find the same (the verdict's agreement below them)",
  );
  splitPorts.inc(0);
  // Vantage names come from Redis (each vantage's heartbeat): the label takes the first few only.
  const vantageLabels = new Set<string>();
  const vantageLabel = (vantage: string): string => {
    if (!vantageLabels.has(vantage) && vantageLabels.size >= MAX_VANTAGE_LABELS) return 'other';
    vantageLabels.add(vantage);
    return vantage;
  };
  // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
  for (const state of PortState.options) portsChecked.inc({ state }, 0);
  for (const limit of Limit.options) rateLimited.inc({ limit }, 0);
  for (const kind of CHECK_KINDS) checkRequests.inc({ kind, outcome: 'ok' }, 0);

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
        const counts = await queue.countJobs();
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
        this.set(await queue.countWorkers());
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
      this.set(await queue.countWorkers().then(() => 1, () => 0));
    },
  });
  // A Redis at maxmemory (noeviction) answers reads, so port_checker_redis_up stays 1, yet every check gets a 503.
  new Gauge({
    name: 'port_checker_redis_writable',
    help: '1 when Redis took a small write at the scrape (at most once a second), 0 when it refused it (out of memory, read-only) or did not answer',
    registers,
    async collect() {
      this.set(await queue.checkWritable().then(() => 1, () => 0));
    },
  });
  if (vantages && vantages.count > 1) {
    new Gauge({
      name: 'port_checker_vantages_alive',
      help: 'Vantages whose heartbeat is live, as checks see them (read from Redis at most once a second); the last value while Redis is away',
      registers,
      async collect() {
        try {
          this.set((await queue.liveVantages()).length);
        } catch (err) {
          unreadable(err);
        }
      },
    });
    new Gauge({
      name: 'port_checker_vantage_quorum',
      help: 'Vantages that must answer for a port to get a verdict (PORT_CHECK_QUORUM); with fewer alive, every check is answered 503',
      registers,
    }).set(vantages.quorum);
  }
  if (redisWatch) countRedisConnectionErrors(registry, redisWatch);
  if (budgets) {
    let counted = 0;
    new Counter({
      name: 'port_checker_budget_refunds_failed_total',
      help: 'Refunds of a check turned away (503 SERVICE_UNAVAILABLE) that Redis never took: the client stayed charged until the window ended',
      registers,
      collect() {
        this.inc(budgets.refundsFailed - counted);
        counted = budgets.refundsFailed;
      },
    });
  }

  function observe({ route, method, status, seconds, kind, outcome, check, rateLimitedBy }: RequestObservation): void {
    const labels = { route, method, status };
    httpRequests.inc(labels);
    httpDuration.observe(labels, seconds);
    if (status === '429') rateLimited.inc({ limit: rateLimitedBy ?? 'client' });
    if (kind === undefined || outcome === undefined) return;
    checkRequests.inc({ kind, outcome });
    if (check) checkDuration.observe({ kind, outcome }, seconds);
    if (outcome !== 'ok') return;
    for (const [state, count] of Object.entries(check?.states ?? {})) portsChecked.inc({ state }, count);
    for (const [vantage, statuses] of Object.entries(check?.vantages ?? {})) {
      for (const [status, count] of Object.entries(statuses)) vantageProbes.inc({ vantage: vantageLabel(vantage), status }, count);
    }
    if (check?.split) splitPorts.inc(check.split);
  }

  return { registry, observe };
}
