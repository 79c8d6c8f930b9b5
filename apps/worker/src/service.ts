import type { Worker } from 'bullmq';
import { idempotent, runShutdownSteps, startAdminServer, watchRedisConnections, type Config, type Logger } from '@port-checker/shared';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { combineHooks, type ProbeHooks } from './probe.processor.js';
import { startHeartbeat } from './heartbeat.js';
import { startProbeWorkers } from './probe.worker.js';

export interface RunningWorker {
  /** The process's BullMQ Workers (several, sharing one connection: see WORKERS_PER_PROCESS). */
  workers: Worker[];
  metrics: WorkerMetrics;
  /** Where Prometheus scrapes this worker, e.g. http://127.0.0.1:9101/metrics */
  metricsUrl: string;
  /** Takes no new jobs, finishes the probes it holds (each ends by its job's deadline), then stops serving metrics. */
  close(): Promise<void>;
}

/** Wires config → metrics → BullMQ worker → metrics server. `main` adds signals; tests call it directly. */
export async function startWorkerService(config: Config, logger: Logger, hooks: ProbeHooks = {}): Promise<RunningWorker> {
  // Logs the process's Redis outages once each, and counts the errors between for the metrics.
  const redisWatch = watchRedisConnections(logger);
  const metrics = createWorkerMetrics(redisWatch, config.vantage?.id);
  // Listen first: a metrics port already taken then fails the start before any job is taken.
  const adminServer = await startAdminServer(metrics.registry, config.admin.host, config.admin.workerPort);
  const probeWorkers = startProbeWorkers(config, logger, combineHooks(metrics.hooks, hooks), redisWatch);
  const heartbeat = config.vantage && startHeartbeat(probeWorkers.connection, config.queueName, config.vantage);
  // Started means pickable: the API sees the vantage from the first beat on.
  await heartbeat?.started;
  return {
    workers: probeWorkers.workers,
    metrics,
    metricsUrl: adminServer.metricsUrl,
    close: idempotent(() =>
      runShutdownSteps(
        [
          // Off the API's list first, so that no new check counts on this vantage meanwhile.
          ...(heartbeat ? [{ name: 'vantage heartbeat', run: () => heartbeat.stop() }] : []),
          // Probes end by their jobs' deadline; only a Redis that is away can hold this longer.
          { name: 'finish the probes held', run: () => probeWorkers.close(), timeoutMs: config.deadlineMs },
          { name: 'admin server', run: () => adminServer.close() },
        ],
        logger,
      ),
    ),
  };
}
