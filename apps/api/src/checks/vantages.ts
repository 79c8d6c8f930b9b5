import type { PortState, ProbeOutcome, VantageInfo } from '@port-checker/shared';

/** What one vantage's probe of a port came to: only `finished` is evidence about the port. */
export type VantageStatus = 'finished' | 'timed_out' | 'failed';
export const VANTAGE_STATUSES: readonly VantageStatus[] = ['finished', 'timed_out', 'failed'];

export interface VantageSeen {
  vantage: VantageInfo;
  status: VantageStatus;
  /** Only when finished. */
  outcome?: ProbeOutcome;
}

/** The vantages' verdict on one port: the outcome it answers with, and how many finished probes found it. */
export interface Consensus {
  vantages: VantageSeen[];
  agreement: number;
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

// A tie goes to the more definite finding: a connection made somewhere beats one refused, which
// beats silence (a path's own filter can hide a port from one vantage; nothing fakes a handshake).
const RANK: Record<PortState, number> = { open: 0, closed: 1, filtered: 2, error: 3 };

/**
 * The verdict on one port from what its vantages saw: undefined when fewer than `quorum` probes
 * finished (a vantage that did not answer is no evidence either way, so no verdict is guessed).
 * Otherwise the finding most finished probes share, ties broken by RANK and, with a challenge,
 * a verified open port before an unverified one; the outcome answered is the first such probe's.
 */
export function judgePort(vantages: VantageSeen[], quorum: number, challenged: boolean): { outcome: ProbeOutcome; consensus: Consensus } | undefined {
  const finished = vantages.flatMap(({ outcome }) => (outcome ? [outcome] : []));
  if (finished.length < quorum) return undefined;
  // With a challenge, a vantage that reached the port without reading the token found something else.
  const finding = (outcome: ProbeOutcome): string => (challenged && outcome.state === 'open' ? `open ${outcome.verified === true}` : outcome.state);
  const votes = new Map<string, { count: number; first: ProbeOutcome }>();
  for (const outcome of finished) {
    const vote = votes.get(finding(outcome));
    if (vote) vote.count += 1;
    else votes.set(finding(outcome), { count: 1, first: outcome });
  }
  const [winner] = [...votes.values()].sort(
    (a, b) => b.count - a.count || RANK[a.first.state] - RANK[b.first.state] || Number(b.first.verified === true) - Number(a.first.verified === true),
  );
  return { outcome: winner!.first, consensus: { vantages, agreement: winner!.count } };
}
