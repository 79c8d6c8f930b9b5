import {
  AppError,
  checkTimeline,
  RETRY_AFTER_SECONDS,
  PROBE_JOB_NAME,
  ProbeOutcome,
  TLS_PROBE_JOB_NAME,
  TlsProbeOutcome,
  type ProbeJob,
  type ProbeSettings,
  type Timeline,
  type TlsProbeJob,
} from '@port-checker/shared';
import { clientNetwork } from '../budgets/counters.js';
import { OverloadGuard, type OverloadLimits } from './overload-guard.js';
import type { Finished, ProbeQueue, WantedProbe } from '../queue/probe-queue.js';

/**
 * A check, in the domain's words: admitted or turned away, its probes run through the queue, their
 * outcomes or the error that tells the caller what happened. Knows nothing of BullMQ.
 */
export interface Checker {
  /** Probes `ports` of `host`; one outcome per port, or an AppError. */
  check(host: string, ports: readonly number[], options: CheckOptions): Promise<Map<number, ProbeOutcome>>;
  /** One TLS handshake with `host:port`; its outcome, or an AppError. */
  checkTls(host: string, port: number, options: TlsCheckOptions): Promise<TlsProbeOutcome>;
  /** True once `drain` has been called. */
  readonly draining: boolean;
  /** Refuses new checks (SERVICE_UNAVAILABLE) and resolves when those in flight have ended. */
  drain(): Promise<void>;
  close(): void;
}

export interface CheckOptions {
  /** Token every open port must send back to count as verified. */
  challenge?: string | undefined;
  /** The HTTP request's id: its jobs' ids start with it, so one grep finds a check's whole story. */
  requestId: string;
  /** The caller's address: its network may hold only a share of this process's ports in flight. */
  client: string;
  /** Hears of each job of another check whose probe this one shares (named in the request's log line). */
  onJoin?: (jobId: string) => void;
}

export interface TlsCheckOptions {
  /** Must be among the certificate's IP subject alternative names. */
  expectedIp?: string | undefined;
  requestId: string;
  client: string;
  onJoin?: (jobId: string) => void;
}

export interface CheckerOptions {
  queue: ProbeQueue;
  probe: ProbeSettings;
  deadlineMs: number;
  overload: OverloadLimits;
}

export function createChecker({ queue, probe, deadlineMs, overload }: CheckerOptions): Checker {
  const guard = new OverloadGuard(() => queue.countBacklog(), overload);
  let draining = false;

  /** Runs a check of `jobs` probes if this process may take it on now; its timeline starts then. */
  async function admitted<T>(jobs: number, client: string, run: (timeline: Timeline) => Promise<T>): Promise<T> {
    if (draining) {
      throw new AppError('SERVICE_UNAVAILABLE', 'this checker is shutting down; ask another or try again shortly', {
        retryAfter: RETRY_AFTER_SECONDS,
      });
    }
    const release = guard.admit(jobs, clientNetwork(client));
    try {
      return await run(checkTimeline(deadlineMs));
    } finally {
      release();
    }
  }

  return {
    get draining() {
      return draining;
    },

    async drain() {
      draining = true;
      await guard.whenIdle();
    },

    check(host, ports, { challenge, requestId, client, onJoin }) {
      return admitted(ports.length, client, async (timeline) => {
        const wanted = ports.map((port): WantedProbe => {
          const data: ProbeJob = { host, port, deadline: timeline.probesEndBy, ...probe, ...(challenge !== undefined && { challenge }) };
          // A challenged probe answers for its own token only: it is never shared with another check's.
          const key = challenge === undefined ? `${host} ${port}` : `${host} ${port} ${challenge}`;
          return { key, name: PROBE_JOB_NAME, data, jobId: `${requestId}-${port}` };
        });
        const finished = await queue.run(wanted, timeline, ProbeOutcome, onJoin);
        return new Map(finished.map((result, index) => [ports[index]!, outcomeOf(result)]));
      });
    },

    checkTls(host, port, { expectedIp, requestId, client, onJoin }) {
      return admitted(1, client, async (timeline) => {
        const data: TlsProbeJob = { host, port, ...(expectedIp !== undefined && { expectedIp }), timeoutMs: probe.timeoutMs, deadline: timeline.probesEndBy };
        const key = `tls ${host} ${port} ${expectedIp ?? ''}`;
        const [result] = await queue.run([{ key, name: TLS_PROBE_JOB_NAME, data, jobId: `${requestId}-tls-${port}` }], timeline, TlsProbeOutcome, onJoin);
        return outcomeOf(result);
      });
    },

    close() {
      guard.close();
    },
  };
}

/**
 * A probe's outcome, or CHECK_FAILED: no worker took it up in time, it failed, or its result is
 * not what this version understands. The worker's reason goes to the log, not to the caller.
 */
function outcomeOf<T>(result: Finished<T> | undefined): T {
  if (result?.ok) return result.outcome;
  const why = result ? 'a probe failed' : 'not every probe finished before the deadline';
  throw new AppError('CHECK_FAILED', `could not check every port: ${why}; try again or ask another checker`, {
    retryAfter: RETRY_AFTER_SECONDS,
    ...(result && { cause: new Error(result.reason) }),
  });
}
