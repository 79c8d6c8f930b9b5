import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry, DURATION_BUCKETS, PortState } from '@port-checker/shared';
import { DROP_REASONS, type ProbeHooks } from './probe.processor.js';

export interface WorkerMetrics {
  registry: Registry;
  /** Feed the metrics from the probe processor. */
  hooks: ProbeHooks;
}

/** One worker's metrics; labels are states and reasons, never an address or a port number. */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = createMetricsRegistry();
  const registers = [registry];
  const byState = { labelNames: ['state'] as const, registers };
  const probes = new Counter({ name: 'port_checker_probes_total', help: 'Probes finished, by final state', ...byState });
  const attempts = new Counter({
    name: 'port_checker_probe_attempts_total',
    help: 'TCP connect attempts, by the state each found',
    ...byState,
  });
  const duration = new Histogram({
    name: 'port_checker_probe_duration_seconds',
    help: 'Time a probe took, retries and delays included, by final state',
    buckets: DURATION_BUCKETS,
    ...byState,
  });
  const attemptsPerProbe = new Histogram({
    name: 'port_checker_probe_attempts',
    help: 'Attempts a probe needed',
    buckets: [1, 2, 3, 4, 5, 6, 8, 10],
    registers,
  });
  const inFlight = new Gauge({ name: 'port_checker_probes_in_flight', help: 'Probes running now', registers });
  const dropped = new Counter({
    name: 'port_checker_jobs_dropped_total',
    help: 'Jobs dropped without probing, by reason (deadline: it had passed when the job was taken)',
    labelNames: ['reason'] as const,
    registers,
  });
  // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
  for (const state of PortState.options) {
    probes.inc({ state }, 0);
    attempts.inc({ state }, 0);
  }
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);

  return {
    registry,
    hooks: {
      onAttempt: ({ state }) => attempts.inc({ state }),
      onProbeStart: () => inFlight.inc(),
      onProbeEnd: (outcome, durationMs) => {
        inFlight.dec();
        probes.inc({ state: outcome.state });
        duration.observe({ state: outcome.state }, durationMs / 1000);
        attemptsPerProbe.observe(outcome.attempts);
      },
      onDropped: (reason) => dropped.inc({ reason }),
    },
  };
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9101/metrics */
  url: string;
  close(): Promise<void>;
}

/** A worker has no HTTP API: this small server answers GET /metrics for Prometheus, and 404 otherwise. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: { code: 'NOT_FOUND', message: 'only GET /metrics is served here' } }));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const hostname = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostname}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
