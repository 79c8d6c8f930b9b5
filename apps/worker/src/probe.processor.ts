import { isIP } from 'node:net';
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import {
  ProbeJob,
  TLS_PROBE_JOB_NAME,
  TlsProbeJob,
  type Logger,
  type ProbeOutcome,
  type TlsProbeOutcome,
} from '@port-checker/shared';
import { probePort, shortestAttemptMs, type AttemptListener } from './probe-port.js';
import { clampJob, type ClampedSetting, type JobLimits } from './job-limits.js';
import { probeTls } from './probe-tls.js';
import { TARGET_REFUSALS, type TargetRefusal } from './target-guard.js';

/** Why a job was dropped without probing. */
export const DROP_REASONS = ['malformed', ...TARGET_REFUSALS, 'deadline', 'no_source_address'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ProbeHooks {
  /** Called after every TCP attempt; for metrics and tests. */
  onAttempt?: AttemptListener;
  onProbeStart?: () => void;
  onProbeEnd?: (outcome: ProbeOutcome, durationMs: number) => void;
  onTlsProbeEnd?: (outcome: TlsProbeOutcome, durationMs: number) => void;
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
  /** PORT_CHECKER_SOURCE_ADDRESS: every probe leaves from it, so targets of its family only. */
  sourceAddress?: string | undefined;
}

/**
 * Adapts `probePort` and `probeTls` to BullMQ: validates the job, trusts none of its numbers
 * beyond the worker's own settings, checks its target, honours its deadline, returns the outcome.
 */
export function createProbeProcessor(options: ProbeProcessorOptions) {
  const { checkTarget, limits, logger, sourceAddress, onAttempt, onProbeStart, onProbeEnd, onTlsProbeEnd, onDropped, onClamped } = options;
  const sourceFamily = sourceAddress === undefined ? 0 : isIP(sourceAddress);

  /** Parses and clamps the job, and refuses what must not be probed or can no longer be in time. */
  function admit<T extends { host: string; deadline: number; timeoutMs: number }>(job: Job, schema: z.ZodType<T>): T {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      onDropped?.('malformed');
      throw new UnrecoverableError(`malformed probe job: ${z.prettifyError(parsed.error)}`);
    }
    const { job: data, clamped } = clampJob(parsed.data, limits);
    // The API checks the target policy before enqueueing; checking again here means a job
    // written into Redis by anyone else still cannot reach a private network.
    const refusal = checkTarget(data.host);
    if (refusal !== undefined) {
      onDropped?.(refusal);
      throw new UnrecoverableError(`target ${data.host} refused: ${refusal}`);
    }
    // A vantage bound to an IPv4 source has no IPv6 path (or the reverse): it fails the job rather
    // than report a state it did not see, so the API counts it as no answer.
    if (sourceFamily !== 0 && isIP(data.host) !== sourceFamily) {
      onDropped?.('no_source_address');
      throw new UnrecoverableError(`this vantage probes from ${sourceAddress} only: it has no path to ${data.host}'s address family`);
    }
    if (clamped.length > 0) {
      clamped.forEach((setting) => onClamped?.(setting));
      logger.warn({ jobId: job.id, clamped }, "job settings above this worker's maxima were cut down");
    }
    // Taken up too late for one useful attempt: the API answers CHECK_FAILED for it, rather
    // than a `filtered` that only says this worker was late.
    if (data.deadline - Date.now() < shortestAttemptMs(data.timeoutMs)) {
      onDropped?.('deadline');
      throw new UnrecoverableError('deadline passed before the probe could start; nobody waits for its result');
    }
    return data;
  }

  async function processPortProbe(job: Job): Promise<ProbeOutcome> {
    const { host, port, ...settings } = admit(job, ProbeJob);
    const started = performance.now();
    onProbeStart?.();
    const outcome = await probePort(host, port, { ...settings, localAddress: sourceAddress, ...(onAttempt && { onAttempt }) });
    const durationMs = performance.now() - started;
    onProbeEnd?.(outcome, durationMs);
    // The job's id, never its whole payload; no child logger per job, a cost at every probe.
    logger.debug({ jobId: job.id, state: outcome.state, attempts: outcome.attempts, durationMs: Math.round(durationMs) }, 'probe finished');
    return outcome;
  }

  async function processTlsProbe(job: Job): Promise<TlsProbeOutcome> {
    const { host, port, expectedIp, timeoutMs, deadline } = admit(job, TlsProbeJob);
    const started = performance.now();
    const outcome = await probeTls(host, port, { timeoutMs: Math.min(timeoutMs, deadline - Date.now()), expectedIp, localAddress: sourceAddress });
    const durationMs = performance.now() - started;
    onTlsProbeEnd?.(outcome, durationMs);
    logger.debug({ jobId: job.id, valid: outcome.valid, durationMs: Math.round(durationMs) }, 'tls probe finished');
    return outcome;
  }

  return function processProbe(job: Job): Promise<ProbeOutcome | TlsProbeOutcome> {
    return job.name === TLS_PROBE_JOB_NAME ? processTlsProbe(job) : processPortProbe(job);
  };
}

/** One set of hooks that calls each of `list` in turn, e.g. the worker's metrics and a test's. */
export function combineHooks(...list: ProbeHooks[]): ProbeHooks {
  return {
    onAttempt: (...args) => list.forEach((hooks) => hooks.onAttempt?.(...args)),
    onProbeStart: () => list.forEach((hooks) => hooks.onProbeStart?.()),
    onProbeEnd: (...args) => list.forEach((hooks) => hooks.onProbeEnd?.(...args)),
    onTlsProbeEnd: (...args) => list.forEach((hooks) => hooks.onTlsProbeEnd?.(...args)),
    onDropped: (reason) => list.forEach((hooks) => hooks.onDropped?.(reason)),
    onClamped: (setting) => list.forEach((hooks) => hooks.onClamped?.(setting)),
  };
}
