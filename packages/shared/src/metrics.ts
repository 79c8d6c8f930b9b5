import { createRequire } from 'node:module';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The release, as the packages' version says (they are versioned together). */
export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Seconds, for durations bounded by a request's deadline (7 s by default, at most 600). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

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
