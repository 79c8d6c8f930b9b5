import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeOutcome, ProbeSettings } from '@port-checker/shared';
import { probeTcp, type TcpProbeResult } from './probe-tcp.js';

export type AttemptListener = (result: TcpProbeResult, attempt: number, target: { host: string; port: number }) => void;

export interface CheckPortOptions extends ProbeSettings {
  /** Ends the retries early, e.g. when the request's deadline has passed. */
  signal?: AbortSignal;
  onAttempt?: AttemptListener;
}

/**
 * Probes a port up to `retries` times, `retryDelayMs` apart, stopping at the first success.
 * A refusal is final, as in nmap (a reset settles it), unless `retryRefused` is set;
 * timeouts and unreachable errors are retried.
 */
export async function checkPort(host: string, port: number, options: CheckPortOptions): Promise<ProbeOutcome> {
  const { retries, retryDelayMs, timeoutMs, retryRefused, signal, onAttempt } = options;
  const abortable = signal ? { signal } : {};
  for (let attempts = 1; ; attempts += 1) {
    const result = await probeTcp(host, port, { timeoutMs, ...abortable });
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
