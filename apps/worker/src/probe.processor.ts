import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { isAllowedTarget, ProbeJob, type ProbeOutcome } from '@port-checker/shared';
import { checkPort, type AttemptListener } from './check-port.js';

export interface ProbeHooks {
  /** Called after every TCP attempt; for metrics and tests. */
  onAttempt?: AttemptListener;
}

export interface ProbeProcessorOptions extends ProbeHooks {
  allowLocalIps: boolean;
}

/** Adapts `checkPort` to BullMQ: validates the job, honours its deadline, returns the outcome. */
export function createProbeProcessor({ allowLocalIps, onAttempt }: ProbeProcessorOptions) {
  return async function processProbe(job: Job): Promise<ProbeOutcome> {
    const parsed = ProbeJob.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`malformed probe job: ${z.prettifyError(parsed.error)}`);
    }
    const { host, port, deadline, ...settings } = parsed.data;
    // The API checks the target policy before enqueueing; checking again here means a job
    // written into Redis by anyone else still cannot reach a private network.
    if (!isAllowedTarget(host, allowLocalIps)) {
      throw new UnrecoverableError(`target ${host} is not a public address`);
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new UnrecoverableError('deadline passed before the probe started; nobody waits for its result');
    }
    const signal = AbortSignal.timeout(remainingMs);
    return checkPort(host, port, { ...settings, signal, ...(onAttempt && { onAttempt }) });
  };
}
