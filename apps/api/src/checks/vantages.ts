import type { ProbeOutcome, TlsProbeOutcome, VantageInfo } from '@port-checker/shared';

/** What one vantage's probe of a port came to: only `finished` is evidence about the port. */
export type VantageStatus = 'finished' | 'timed_out' | 'offline';
export const VANTAGE_STATUSES: readonly VantageStatus[] = ['finished', 'timed_out', 'offline'];

export interface VantageSeen<T = ProbeOutcome> {
  vantage: VantageInfo;
  status: VantageStatus;
  /** Only when finished. */
  outcome?: T;
}

/** The vantages' verdict on one port: what each saw, and the counts of the agreement. */
export interface Consensus<T = ProbeOutcome> {
  vantages: VantageSeen<T>[];
  asked: number;
  answered: number;
  agree: number;
  required: number;
}

/** A port's outcome, and with several vantages the consensus it comes from. */
export interface CheckedPort extends ProbeOutcome {
  consensus?: Consensus;
}

/** A TLS handshake's outcome, and when asked of several vantages the consensus it comes from. */
export interface CheckedTls extends TlsProbeOutcome {
  consensus?: Consensus<TlsProbeOutcome>;
}

/**
 * Picks `count` of the live vantages (fewer if fewer live), spread as widely as their labels
 * allow: each pick prefers a region, then a network, that no earlier pick has, and chooses at
 * random among equals, so that load spreads over vantages alike.
 */
export function pickVantages(live: readonly VantageInfo[], count: number, random: () => number = Math.random): VantageInfo[] {
  const left = live.map((vantage) => ({ vantage, tie: random() }));
  const picked: VantageInfo[] = [];
  const regions = new Map<string, number>();
  const networks = new Map<string, number>();
  const seen = (map: Map<string, number>, label: string | null): number => (label === null ? 0 : (map.get(label) ?? 0));
  while (picked.length < count && left.length > 0) {
    left.sort(
      (a, b) =>
        seen(regions, a.vantage.region) - seen(regions, b.vantage.region) ||
        seen(networks, a.vantage.network) - seen(networks, b.vantage.network) ||
        a.tie - b.tie,
    );
    const { vantage } = left.shift()!;
    picked.push(vantage);
    if (vantage.region !== null) regions.set(vantage.region, seen(regions, vantage.region) + 1);
    if (vantage.network !== null) networks.set(vantage.network, seen(networks, vantage.network) + 1);
  }
  return picked;
}

/** A verdict and the consensus it comes from, or undefined: fewer than the quorum finished. */
export type Verdict<T> = { outcome: T; consensus: Consensus<T> } | undefined;

/**
 * The verdict on one port from what its vantages saw (libp2p AutoNAT v2's rule: a vantage that did
 * not answer is no evidence either way). Undefined when fewer than `quorum` probes finished: no
 * verdict is guessed, the check fails. When exactly one finding (`finding` names it) is shared by
 * `quorum` finished probes, that finding, as the first of them found it. Otherwise the vantages
 * disagree, and `disagreement` says so in an outcome that claims nothing.
 */
function judge<T>(vantages: VantageSeen<T>[], quorum: number, finding: (outcome: T) => string, disagreement: (said: string) => T): Verdict<T> {
  const finished = vantages.flatMap(({ outcome }) => (outcome ? [outcome] : []));
  if (finished.length < quorum) return undefined;
  const votes = new Map<string, { count: number; first: T }>();
  for (const outcome of finished) {
    const vote = votes.get(finding(outcome));
    if (vote) vote.count += 1;
    else votes.set(finding(outcome), { count: 1, first: outcome });
  }
  const counts = { asked: vantages.length, answered: finished.length, required: quorum };
  const agreed = [...votes.values()].filter(({ count }) => count >= quorum);
  if (agreed.length === 1) return { outcome: agreed[0]!.first, consensus: { vantages, ...counts, agree: agreed[0]!.count } };
  const groups = [...votes].sort(([, a], [, b]) => b.count - a.count);
  const said = `the vantages disagree: ${groups.map(([found, { count }]) => `${count} found it ${found}`).join(', ')}; ${quorum} must agree`;
  return { outcome: disagreement(said), consensus: { vantages, ...counts, agree: groups[0]![1].count } };
}

/**
 * A port's verdict. Split: not accessible (state `error`, saying what each group found), never
 * open on fewer voices than the quorum. With a challenge, an open port that sent the token back
 * and one that did not are different findings.
 */
export function judgePort(vantages: VantageSeen[], quorum: number, challenged: boolean): Verdict<ProbeOutcome> {
  const finding = (outcome: ProbeOutcome): string =>
    challenged && outcome.state === 'open' ? (outcome.verified === true ? 'open and verified' : 'open, not verified') : outcome.state;
  return judge(vantages, quorum, finding, (said) => {
    const attempts = Math.max(...vantages.map(({ outcome }) => outcome?.attempts ?? 0));
    return { state: 'error', error: said, attempts, latencyMs: null, ...(challenged && { verified: false, verifyError: 'the vantages disagree' }) };
  });
}

/** A TLS service's verdict: valid only when the quorum's handshakes were; split: not valid, saying so. */
export function judgeTls(vantages: VantageSeen<TlsProbeOutcome>[], quorum: number): Verdict<TlsProbeOutcome> {
  return judge(vantages, quorum, ({ valid }) => (valid ? 'valid' : 'not valid'), (said) => ({ valid: false, error: said, notAfter: null }));
}
