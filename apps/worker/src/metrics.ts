import { Gauge, type Registry } from 'prom-client';
import { countRedisConnectionErrors, createMetrics, PortState, type RedisWatch } from '@port-checker/shared';
import { CLAMPED_SETTINGS } from './job-limits.js';
import { DROP_REASONS, type ProbeHooks } from './probe.processor.js';

export interface WorkerMetrics {
  registry: Registry;
  /** Feed the metrics from the probe processor. */
  hooks: ProbeHooks;
}

/** One worker's metrics; labels are states and reasons, never an address or a port number. */
export function createWorkerMetrics(redisWatch?: RedisWatch, vantage?: string): WorkerMetrics {
  const { registry, counter, histogram } = createMetrics();
  // One value per process, the operator's name for where it probes from: bounded by the vantages deployed.
  if (vantage !== undefined) registry.setDefaultLabels({ vantage });
  if (redisWatch) countRedisConnectionErrors(registry, redisWatch);
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
  const tlsProbes = counter('port_checker_tls_probes_total', 'TLS checks finished, by whether the certificate was valid', ['valid']);
  const clamped = counter(
    'port_checker_job_settings_clamped_total',
    "Job settings above this worker's configured maxima, cut down before probing, by setting",
    ['setting'],
  );
  // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
  for (const state of PortState.options) {
    probes.inc({ state }, 0);
    attempts.inc({ state }, 0);
  }
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);
  for (const valid of ['true', 'false']) tlsProbes.inc({ valid }, 0);
  for (const setting of CLAMPED_SETTINGS) clamped.inc({ setting }, 0);

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
      onTlsProbeEnd: ({ valid }) => tlsProbes.inc({ valid: String(valid) }),
      onDropped: (reason) => dropped.inc({ reason }),
      onClamped: (setting) => clamped.inc({ setting }),
    },
  };
}
