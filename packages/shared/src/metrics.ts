import { createRequire } from 'node:module';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The release, as the packages' version says (they are versioned together). */
export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * Seconds, for durations bounded by a request's deadline (7 s by default, at most 600): the HTTP
 * requests', the checks' and the probes'. Fine where answers cluster with the defaults, so that
 * quantiles and alerts do not read a whole bucket's width into them: around one probe timeout
 * (5 s: a filtered port is answered at ~5.02 s) and around the deadline (each probe ends 0.5 s
 * before it, at 6.5 s; CHECK_FAILED at 7 s). Coarse at the fast end and in the tail, which longer
 * configured deadlines and timeouts reach. 23 boundaries and +Inf per label set.
 */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  4.5, 5, 5.25, 5.5, 6, 6.5, 7, 7.5, 8,
  10, 15, 20, 30, 60,
];

export interface Metrics {
  registry: Registry;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** Buckets default to DURATION_BUCKETS. */
  histogram<L extends string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
}

/**
 * A registry of one's own per API or worker, never prom-client's global one, so that several
 * of them in one process (the tests run many) keep their figures apart, and helpers that
 * declare metrics in it. Holds the standard process and Node.js metrics under their usual
 * names, which ready-made dashboards expect; the service's own are all prefixed `port_checker_`,
 * `port_checker_build_info{version}` among them.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  // Prometheus' convention for "which version runs where": a constant 1 carrying the version.
  new Gauge({ name: 'port_checker_build_info', help: 'Always 1; the version of the running release', labelNames: ['version'], registers })
    .set({ version: VERSION }, 1);
  return {
    registry,
    counter: (name, help, labelNames = []) => new Counter({ name, help, labelNames, registers }),
    histogram: (name, help, labelNames = [], buckets = DURATION_BUCKETS) =>
      new Histogram({ name, help, labelNames, buckets, registers }),
  };
}
