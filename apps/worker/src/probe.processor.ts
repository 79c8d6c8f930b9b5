import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { ProbeJob, type Logger, type ProbeOutcome } from '@port-checker/shared';
import { checkPort, type AttemptListener } from './check-port.js';
import { clampJob, type ClampedSetting, type JobLimits } from './job-limits.js';
import { TARGET_REFUSALS, type TargetRefusal } from './target-guard.js';

/** Why a job was dropped without probing. */
export const DROP_REASONS = ['malformed', ...TARGET_REFUSALS, 'deadline'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ProbeHooks {
  /** Called after every TCP attempt; for metrics and tests. */
  onAttempt?: AttemptListener;
  onProbeStart?: () => void;
  onProbeEnd?: (outcome: ProbeOutcome, durationMs: number) => void;
  /** Called when a job is dropped without probing. */
  onDropped?: (reason: DropReason) => void;
  /** Called for each setting of a job cut down to the worker's own maximum. */
  onClamped?: (setting: ClampedSetting) => void;
}

export interface ProbeProcessorOptions extends ProbeHooks {
  /** The worker's target check (`createTargetGuard`). */
  checkTarget: (host: string) => TargetRefusal | undefined;
  limits: JobLimits;
  logger: Logger;
}

/** Adapts `checkPort` to BullMQ: validates the job, honours its deadline, returns the outcome. */
export function createProbeProcessor(options: ProbeProcessorOptions) {
  const { checkTarget, limits, logger, onAttempt, onProbeStart, onProbeEnd, onDropped, onClamped } = options;
  return async function processProbe(job: Job): Promise<ProbeOutcome> {
    const parsed = ProbeJob.safeParse(job.data);
    if (!parsed.success) {
      onDropped?.('malformed');
      throw new UnrecoverableError(`malformed probe job: ${z.prettifyError(parsed.error)}`);
    }
    const { job: probe, clamped } = clampJob(parsed.data, limits);
    const { host, port, deadline, ...settings } = probe;
    // The API checks the target policy before enqueueing; checking again here means a job
    // written into Redis by anyone else still cannot reach a private network.
    const refusal = checkTarget(host);
    if (refusal !== undefined) {
      onDropped?.(refusal);
      throw new UnrecoverableError(`target ${host} refused: ${refusal}`);
    }
    // A child logger per job: its id, never its whole payload.
    const log = logger.child({ jobId: job.id });
    if (clamped.length > 0) {
      clamped.forEach((setting) => onClamped?.(setting));
      log.warn({ clamped }, "job settings above this worker's maxima were cut down");
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
    log.debug({ state: outcome.state, attempts: outcome.attempts, durationMs: Math.round(durationMs) }, 'probe finished');
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
    onClamped: (setting) => list.forEach((hooks) => hooks.onClamped?.(setting)),
  };
}
