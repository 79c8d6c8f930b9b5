import type { z } from 'zod';
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
  type VantageInfo,
  type VantageSettings,
} from '@port-checker/shared';
import { judgePort, judgeTls, pickVantages, type CheckedPort, type CheckedTls, type Consensus, type VantageSeen, type Verdict } from './vantages.js';
import { clientNetwork } from '../budgets/counters.js';
import { OverloadGuard, type OverloadLimits } from './overload-guard.js';
import type { Finished, ProbeQueue, WantedProbe } from '../queue/probe-queue.js';

/**
 * A check, in the domain's words: admitted or turned away, its probes run through the queue, their
 * outcomes or the error that tells the caller what happened. Knows nothing of BullMQ.
 */
export interface Checker {
  /**
   * Probes `ports` of `host`; one outcome per port, or an AppError. From several vantages
   * (PORT_CHECK_VANTAGES > 1), each outcome carries the consensus it comes from.
   */
  check(host: string, ports: readonly number[], options: CheckOptions): Promise<Map<number, CheckedPort>>;
  /** Probes each port costs: one per vantage asked (PORT_CHECK_VANTAGES); budgets charge ports × this. */
  readonly probesPerPort: number;
  /** One TLS handshake with `host:port`; its outcome, or an AppError. */
  checkTls(host: string, port: number, options: TlsCheckOptions): Promise<CheckedTls>;
  /** True once `drain` has been called. */
  readonly draining: boolean;
  /** Refuses new checks (SERVICE_UNAVAILABLE) and resolves when those in flight have ended. */
  drain(): Promise<void>;
  close(): void;
}

export interface CheckOptions {
  /** Token every open port must send back to count as verified. */
  challenge?: string | undefined;
  /** Fewer vantages than PORT_CHECK_VANTAGES, as the caller asked; a majority of them must agree. */
  vantages?: number | undefined;
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
  /** Several vantages (at most PORT_CHECK_VANTAGES), as the caller asked; a majority of them must agree. */
  vantages?: number | undefined;
  requestId: string;
  client: string;
  onJoin?: (jobId: string) => void;
}

export interface CheckerOptions {
  queue: ProbeQueue;
  probe: ProbeSettings;
  deadlineMs: number;
  overload: OverloadLimits;
  /** PORT_CHECK_VANTAGES and PORT_CHECK_QUORUM; one vantage by default. */
  vantages?: VantageSettings;
}

export function createChecker({ queue, probe, deadlineMs, overload, vantages = { count: 1, quorum: 1 } }: CheckerOptions): Checker {
  const guard = new OverloadGuard(() => queue.countBacklog(), overload);
  let draining = false;

  /** Runs a check of `jobs` probes if this process may take it on now; its timeline starts then. */
  async function admitted<T>(jobs: number, client: string, run: (timeline: Timeline) => Promise<T>): Promise<T> {
    if (draining) throw shuttingDown();
    const release = guard.admit(jobs, clientNetwork(client));
    try {
      return await run(checkTimeline(deadlineMs));
    } finally {
      release();
    }
  }

  /** The vantages to probe from, or SERVICE_UNAVAILABLE when fewer than the quorum are alive: nothing is guessed. */
  async function pickFrom({ count, quorum }: VantageSettings): Promise<VantageInfo[]> {
    let live: VantageInfo[];
    try {
      live = await queue.liveVantages();
    } catch (cause) {
      throw new AppError('SERVICE_UNAVAILABLE', 'the job queue (Redis) is not reachable; try again shortly', { cause, retryAfter: RETRY_AFTER_SECONDS });
    }
    const picked = pickVantages(live, count);
    if (picked.length < quorum) {
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        `this checker probes from ${count} vantages and needs ${quorum} to answer, but only ${live.length} ` +
          `${live.length === 1 ? 'is' : 'are'} alive; try again shortly or ask another checker`,
        { retryAfter: RETRY_AFTER_SECONDS },
      );
    }
    return picked;
  }

  /** The checker's own vantage settings, or, for a caller that asked for fewer, a majority of those. */
  function settingsFor(asked: number | undefined): VantageSettings {
    return asked === undefined || asked >= vantages.count ? vantages : { count: asked, quorum: Math.floor(asked / 2) + 1 };
  }

  /**
   * Probes each of `targets` (ports) from every vantage `settings` picks, and judges each: its
   * verdict and the consensus it comes from, or CHECK_FAILED when fewer than the quorum finished.
   */
  async function fromVantages<T>(
    settings: VantageSettings,
    { client, onJoin }: { client: string; onJoin?: ((jobId: string) => void) | undefined },
    targets: readonly number[],
    probeOf: (target: number, vantage: VantageInfo, timeline: Timeline) => WantedProbe,
    schema: z.ZodType<T>,
    judgeOne: (seen: VantageSeen<T>[], quorum: number) => Verdict<T>,
  ): Promise<Array<{ outcome: T; consensus: Consensus<T> }>> {
    if (draining) throw shuttingDown();
    const picked = await pickFrom(settings);
    return admitted(targets.length * picked.length, client, async (timeline) => {
      const wanted = targets.flatMap((target) => picked.map((vantage) => probeOf(target, vantage, timeline)));
      const finished = await queue.run(wanted, timeline, schema, { ...(onJoin && { onJoin }), failFast: false });
      return targets.map((target, index) => {
        const seen = picked.map((vantage, offset): VantageSeen<T> => {
          const result = finished[index * picked.length + offset];
          if (result === undefined) return { vantage, status: 'timed_out' };
          return result.ok ? { vantage, status: 'finished', outcome: result.outcome } : { vantage, status: 'offline' };
        });
        const verdict = judgeOne(seen, settings.quorum);
        if (verdict) return verdict;
        const answered = seen.filter(({ status }) => status === 'finished').length;
        throw new AppError(
          'CHECK_FAILED',
          `could not check every port: ${answered} of the ${picked.length} vantages asked finished probing port ${target}, ` +
            `${settings.quorum} are needed; try again or ask another checker`,
          { retryAfter: RETRY_AFTER_SECONDS },
        );
      });
    });
  }

  /** Each port probed from every picked vantage; each port's verdict, or CHECK_FAILED when fewer than the quorum finished. */
  async function checkFromVantages(host: string, ports: readonly number[], { challenge, vantages: asked, requestId, client, onJoin }: CheckOptions) {
    const probeOf = (port: number, vantage: VantageInfo, timeline: Timeline): WantedProbe => {
      const data: ProbeJob = { host, port, deadline: timeline.probesEndBy, ...probe, ...(challenge !== undefined && { challenge }) };
      const key = `${host} ${port} @${vantage.id}${challenge === undefined ? '' : ` ${challenge}`}`;
      return { key, name: PROBE_JOB_NAME, data, jobId: `${requestId}-${port}-${vantage.id}`, vantage: vantage.id };
    };
    const judged = await fromVantages(settingsFor(asked), { client, onJoin }, ports, probeOf, ProbeOutcome, (seen, quorum) =>
      judgePort(seen, quorum, challenge !== undefined),
    );
    return new Map(ports.map((port, index): [number, CheckedPort] => [port, { ...judged[index]!.outcome, consensus: judged[index]!.consensus }]));
  }

  /** One handshake from each of the vantages asked; the verdict, or CHECK_FAILED when fewer than the quorum finished. */
  async function checkTlsFromVantages(host: string, port: number, { expectedIp, vantages: asked, requestId, client, onJoin }: TlsCheckOptions) {
    const probeOf = (_: number, vantage: VantageInfo, timeline: Timeline): WantedProbe => {
      const data: TlsProbeJob = { host, port, ...(expectedIp !== undefined && { expectedIp }), timeoutMs: probe.timeoutMs, deadline: timeline.probesEndBy };
      return { key: `tls ${host} ${port} ${expectedIp ?? ''} @${vantage.id}`, name: TLS_PROBE_JOB_NAME, data, jobId: `${requestId}-tls-${port}-${vantage.id}`, vantage: vantage.id };
    };
    const [judged] = await fromVantages(settingsFor(asked), { client, onJoin }, [port], probeOf, TlsProbeOutcome, judgeTls);
    return { ...judged!.outcome, consensus: judged!.consensus };
  }

  return {
    probesPerPort: vantages.count,

    get draining() {
      return draining;
    },

    async drain() {
      draining = true;
      await guard.whenIdle();
    },

    check(host, ports, options) {
      // One vantage: today's path exactly, any worker, through the base queue.
      if (vantages.count > 1) return checkFromVantages(host, ports, options);
      const { challenge, requestId, client, onJoin } = options;
      return admitted(ports.length, client, async (timeline) => {
        const wanted = ports.map((port): WantedProbe => {
          const data: ProbeJob = { host, port, deadline: timeline.probesEndBy, ...probe, ...(challenge !== undefined && { challenge }) };
          // A challenged probe answers for its own token only: it is never shared with another check's.
          const key = challenge === undefined ? `${host} ${port}` : `${host} ${port} ${challenge}`;
          return { key, name: PROBE_JOB_NAME, data, jobId: `${requestId}-${port}` };
        });
        const finished = await queue.run(wanted, timeline, ProbeOutcome, { ...(onJoin && { onJoin }) });
        return new Map(finished.map((result, index) => [ports[index]!, outcomeOf(result)]));
      });
    },

    checkTls(host, port, options) {
      // One handshake from any worker, unless the caller asked for several vantages.
      if (options.vantages !== undefined && options.vantages > 1) return checkTlsFromVantages(host, port, options);
      const { expectedIp, requestId, client, onJoin } = options;
      return admitted(1, client, async (timeline) => {
        const data: TlsProbeJob = { host, port, ...(expectedIp !== undefined && { expectedIp }), timeoutMs: probe.timeoutMs, deadline: timeline.probesEndBy };
        const key = `tls ${host} ${port} ${expectedIp ?? ''}`;
        const [result] = await queue.run([{ key, name: TLS_PROBE_JOB_NAME, data, jobId: `${requestId}-tls-${port}` }], timeline, TlsProbeOutcome, {
          ...(onJoin && { onJoin }),
        });
        return outcomeOf(result);
      });
    },

    close() {
      guard.close();
    },
  };
}

function shuttingDown(): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'this checker is shutting down; ask another or try again shortly', { retryAfter: RETRY_AFTER_SECONDS });
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
