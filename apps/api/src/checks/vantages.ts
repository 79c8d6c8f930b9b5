import type { ProbeOutcome, VantageInfo } from '@port-checker/shared';

/** What one vantage's probe of a port came to: only `finished` is evidence about the port. */
export type VantageStatus = 'finished' | 'timed_out' | 'offline';
export const VANTAGE_STATUSES: readonly VantageStatus[] = ['finished', 'timed_out', 'offline'];

export interface VantageSeen {
  vantage: VantageInfo;
  status: VantageStatus;
  /** Only when finished. */
  outcome?: ProbeOutcome;
}

/** The vantages' verdict on one port: what each saw, and the counts of the agreement. */
export interface Consensus {
  vantages: VantageSeen[];
  asked: number;
  answered: number;
  agree: number;
  required: number;
}

/** A port's outcome, and with several vantages the consensus it comes from. */
export interface CheckedPort extends ProbeOutcome {
  consensus?: Consensus;
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

/**
 * The verdict on one port from what its vantages saw (libp2p AutoNAT v2's rule: a vantage that did
 * not answer is no evidence either way). Undefined when fewer than `quorum` probes finished: no
 * verdict is guessed, the check fails. When exactly one finding is shared by `quorum` finished
 * probes, that finding, as the first of them found it. Otherwise the vantages disagree: the port is
 * answered as not accessible (state `error`), saying what each group found. With a challenge, an
 * open port that sent the token back and one that did not are different findings.
 */
export function judgePort(vantages: VantageSeen[], quorum: number, challenged: boolean): { outcome: ProbeOutcome; consensus: Consensus } | undefined {
  const finished = vantages.flatMap(({ outcome }) => (outcome ? [outcome] : []));
  if (finished.length < quorum) return undefined;
  const finding = (outcome: ProbeOutcome): string =>
    challenged && outcome.state === 'open' ? (outcome.verified === true ? 'open and verified' : 'open, not verified') : outcome.state;
  const votes = new Map<string, { count: number; first: ProbeOutcome }>();
  for (const outcome of finished) {
    const vote = votes.get(finding(outcome));
    if (vote) vote.count += 1;
    else votes.set(finding(outcome), { count: 1, first: outcome });
  }
  const counts = { asked: vantages.length, answered: finished.length, required: quorum };
  const agreed = [...votes.values()].filter(({ count }) => count >= quorum);
  if (agreed.length === 1) return { outcome: agreed[0]!.first, consensus: { vantages, ...counts, agree: agreed[0]!.count } };
  const groups = [...votes].sort(([, a], [, b]) => b.count - a.count);
  const split: ProbeOutcome = {
    state: 'error',
    error: `the vantages disagree: ${groups.map(([found, { count }]) => `${count} found it ${found}`).join(', ')}; ${quorum} must agree`,
    attempts: Math.max(...finished.map(({ attempts }) => attempts)),
    latencyMs: null,
    ...(challenged && { verified: false, verifyError: 'the vantages disagree' }),
  };
  return { outcome: split, consensus: { vantages, ...counts, agree: groups[0]![1].count } };
}
