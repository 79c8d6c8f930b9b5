import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Seconds, for durations bounded by a request's deadline (23 s by default, at most 600). */
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
 * names, which ready-made dashboards expect; the service's own are all prefixed `port_checker_`.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    counter: (name, help, labelNames = []) => new Counter({ name, help, labelNames, registers }),
    histogram: (name, help, labelNames = [], buckets = DURATION_BUCKETS) =>
      new Histogram({ name, help, labelNames, buckets, registers }),
  };
}
