import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of one's own per API or worker, never prom-client's global one, so that several
 * of them in one process (the tests run many) keep their figures apart. Holds the standard
 * process and Node.js metrics under their usual names, which ready-made dashboards expect; the
 * service's own metrics are all prefixed `port_checker_`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Seconds, for durations bounded by a request's deadline (23 s by default, at most 600). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
