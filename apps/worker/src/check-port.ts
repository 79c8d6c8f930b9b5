import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeOutcome, ProbeSettings } from '@port-checker/shared';
import { probeTcp, type TcpProbeResult } from './probe-tcp.js';

export type AttemptListener = (result: TcpProbeResult, attempt: number, target: { host: string; port: number }) => void;

export interface CheckPortOptions extends ProbeSettings {
  /** Ends the retries early, e.g. when the request's deadline has passed. */
  signal?: AbortSignal;
  onAttempt?: AttemptListener;
  /** Token an open port must send back to count as verified; see `probeTcp`. */
  challenge?: string | undefined;
}

/**
 * Probes a port up to `retries` times, `retryDelayMs` apart, stopping at the first success.
 * A refusal is final, as in nmap (a reset settles it), unless `retryRefused` is set;
 * timeouts and unreachable errors are retried. An open port is final whether or not it answers
 * a challenge: whatever holds the port now would hold it on the next attempt too.
 */
export async function checkPort(host: string, port: number, options: CheckPortOptions): Promise<ProbeOutcome> {
  const { retries, retryDelayMs, timeoutMs, retryRefused, signal, onAttempt, challenge } = options;
  const abortable = signal ? { signal } : {};
  for (let attempts = 1; ; attempts += 1) {
    const result = await probeTcp(host, port, { timeoutMs, challenge, ...abortable });
    onAttempt?.(result, attempts, { host, port });
    const final = result.state === 'open' || (result.state === 'closed' && !retryRefused);
    if (final || attempts >= retries || signal?.aborted) return { ...result, attempts };
    try {
      await sleep(retryDelayMs, undefined, abortable);
    } catch {
      return { ...result, attempts }; // the deadline passed while waiting to retry
    }
  }
}
