import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { isAllowedTarget, ProbeJob, type Logger, type ProbeOutcome } from '@port-checker/shared';
import { checkPort, type AttemptListener } from './check-port.js';

/** Why a job was dropped without probing. */
export const DROP_REASONS = ['malformed', 'forbidden_target', 'deadline'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ProbeHooks {
  /** Called after every TCP attempt; for metrics and tests. */
  onAttempt?: AttemptListener;
  onProbeStart?: () => void;
  onProbeEnd?: (outcome: ProbeOutcome, durationMs: number) => void;
  /** Called when a job is dropped without probing. */
  onDropped?: (reason: DropReason) => void;
}

export interface ProbeProcessorOptions extends ProbeHooks {
  allowLocalIps: boolean;
  logger: Logger;
}

/** Adapts `checkPort` to BullMQ: validates the job, honours its deadline, returns the outcome. */
export function createProbeProcessor(options: ProbeProcessorOptions) {
  const { allowLocalIps, logger, onAttempt, onProbeStart, onProbeEnd, onDropped } = options;
  return async function processProbe(job: Job): Promise<ProbeOutcome> {
    const parsed = ProbeJob.safeParse(job.data);
    if (!parsed.success) {
      onDropped?.('malformed');
      throw new UnrecoverableError(`malformed probe job: ${z.prettifyError(parsed.error)}`);
    }
    const { host, port, deadline, ...settings } = parsed.data;
    // The API checks the target policy before enqueueing; checking again here means a job
    // written into Redis by anyone else still cannot reach a private network.
    if (!isAllowedTarget(host, allowLocalIps)) {
      onDropped?.('forbidden_target');
      throw new UnrecoverableError(`target ${host} is not a public address`);
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      onDropped?.('deadline');
      throw new UnrecoverableError('deadline passed before the probe started; nobody waits for its result');
    }
    const signal = AbortSignal.timeout(remainingMs);
    const started = performance.now();
    onProbeStart?.();
    const outcome = await checkPort(host, port, { ...settings, signal, ...(onAttempt && { onAttempt }) });
    const durationMs = performance.now() - started;
    onProbeEnd?.(outcome, durationMs);
    // The job's id, never its whole payload; no child logger per job, a cost at every probe.
    logger.debug({ jobId: job.id, state: outcome.state, attempts: outcome.attempts, durationMs: Math.round(durationMs) }, 'probe finished');
    return outcome;
  };
}

/** One set of hooks that calls each of `list` in turn, e.g. the worker's metrics and a test's. */
export function combineHooks(...list: ProbeHooks[]): ProbeHooks {
  return {
    onAttempt: (...args) => list.forEach((hooks) => hooks.onAttempt?.(...args)),
    onProbeStart: () => list.forEach((hooks) => hooks.onProbeStart?.()),
    onProbeEnd: (...args) => list.forEach((hooks) => hooks.onProbeEnd?.(...args)),
    onDropped: (reason) => list.forEach((hooks) => hooks.onDropped?.(reason)),
  };
}
