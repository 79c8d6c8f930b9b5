import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeOutcome, ProbeSettings } from '@port-checker/shared';
import { attemptTcp, type TcpAttempt } from './tcp-attempt.js';

export type AttemptListener = (result: TcpAttempt, attempt: number, target: { host: string; port: number }) => void;

export interface ProbePortOptions extends ProbeSettings {
  /** Epoch ms by which the probe ends: no attempt runs past it, and none starts too close to it. */
  deadline?: number;
  onAttempt?: AttemptListener;
  /** Token an open port must send back to count as verified; see `attemptTcp`. */
  challenge?: string | undefined;
  /** The address every attempt leaves from; see `attemptTcp`. */
  localAddress?: string | undefined;
}

/**
 * The shortest attempt worth making (or the timeout, if shorter): a connect across the internet
 * is answered within a few hundred ms, so an attempt cut shorter than this by the deadline would
 * report `filtered` for a port that is merely far away.
 */
export const SHORTEST_ATTEMPT_MS = 1000;

export function shortestAttemptMs(timeoutMs: number): number {
  return Math.min(timeoutMs, SHORTEST_ATTEMPT_MS);
}

/**
 * Probes a port up to `maxAttempts` times, `retryDelayMs` apart, stopping at the first success.
 * A refusal is final, as in nmap (a reset settles it), unless `retryRefused` is set;
 * timeouts and unreachable errors are retried. An open port is final whether or not it answers
 * a challenge: whatever holds the port now would hold it on the next attempt too.
 *
 * Every attempt ends by `deadline`, and a retry that could not get its shortest useful time
 * before it is not made: the port is answered with what its attempts found so far (e.g.
 * `filtered` after 1 attempt), which the caller can still use, rather than not at all.
 */
export async function probePort(host: string, port: number, options: ProbePortOptions): Promise<ProbeOutcome> {
  const { maxAttempts, retryDelayMs, timeoutMs, retryRefused, deadline = Infinity, onAttempt, challenge, localAddress } = options;
  // Ends a challenge's wait for its token at the deadline; a plain connect is bounded by its timeout
  // alone (no timer and signal per probe, a visible cost at thousands of probes a second).
  const signal = challenge !== undefined && Number.isFinite(deadline) ? AbortSignal.timeout(Math.max(0, deadline - Date.now())) : undefined;
  for (let attempts = 1; ; attempts += 1) {
    const attemptMs = Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
    const result = await attemptTcp(host, port, { timeoutMs: attemptMs, challenge, localAddress, ...(signal && { signal }) });
    onAttempt?.(result, attempts, { host, port });
    const final = result.state === 'open' || (result.state === 'closed' && !retryRefused);
    const retryFits = Date.now() + retryDelayMs + shortestAttemptMs(timeoutMs) <= deadline;
    if (final || attempts >= maxAttempts || !retryFits) return { ...result, attempts };
    await sleep(retryDelayMs);
  }
}
