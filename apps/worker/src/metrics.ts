import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, type Registry } from 'prom-client';
import { createMetrics, PortState } from '@port-checker/shared';
import { DROP_REASONS, type ProbeHooks } from './probe.processor.js';

export interface WorkerMetrics {
  registry: Registry;
  /** Feed the metrics from the probe processor. */
  hooks: ProbeHooks;
}

/** One worker's metrics; labels are states and reasons, never an address or a port number. */
export function createWorkerMetrics(): WorkerMetrics {
  const { registry, counter, histogram } = createMetrics();
  const probes = counter('port_checker_probes_total', 'Probes finished, by final state', ['state']);
  const attempts = counter(
    'port_checker_probe_attempts_total',
    'TCP connect attempts, by the state each found',
    ['state'],
  );
  const duration = histogram(
    'port_checker_probe_duration_seconds',
    'Time a probe took, retries and delays included, by final state',
    ['state'],
  );
  // Not `port_checker_probe_attempts`: OpenMetrics would read that and the counter above as one family.
  const attemptsPerProbe = histogram('port_checker_attempts_per_probe', 'Attempts a probe needed', [], [1, 2, 3, 4, 5, 6, 8, 10]);
  const inFlight = new Gauge({ name: 'port_checker_probes_in_flight', help: 'Probes running now', registers: [registry] });
  const dropped = counter(
    'port_checker_jobs_dropped_total',
    'Jobs dropped without probing, by reason (deadline: it had passed when the job was taken)',
    ['reason'],
  );
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
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
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
