import type { Limit } from '@port-checker/shared';

/** One budget a check is charged to: whose it is and how many ports it holds. */
export interface Counter {
  limit: Limit;
  /** Whose budget: an address or a network, e.g. 2001:db8::/48. */
  owner: string;
  points: number;
}

/** Each limit as its 429's message begins; `detail.limit` names it for programs. */
const DESCRIPTIONS: Record<Limit, (owner: string, limit: number, window: number) => string> = {
  client: (owner, limit, window) => `per-client limit: ${owner} may have ${limit} ports checked per ${window} s`,
  client_network: (owner, limit, window) => `per-network limit of clients: ${owner} may have ${limit} ports checked per ${window} s`,
  client_in_flight: (owner, limit) => `per-client limit on ports in flight: ${owner} may have ${limit} ports being checked at once`,
  client_network_in_flight: (owner, limit) =>
    `per-network limit of clients on ports in flight: ${owner} may have ${limit} ports being checked at once`,
  target: (owner, limit, window) => `per-target limit: ${owner} may be probed on ${limit} ports per ${window} s`,
  target_network: (owner, limit, window) => `per-target-network limit: ${owner} may be probed on ${limit} ports per ${window} s`,
};

/** A 429's message: which budget, how much of it is left against what was asked, and when to retry. */
export function refusal({ limit, owner, points }: Counter, used: number, asked: number, window: number, reset: number): string {
  const left = Math.max(points - used, 0);
  return `${DESCRIPTIONS[limit](owner, points, window)} and ${left} are left, fewer than the ${asked} asked for; retry in ${reset} s`;
}

/** The names of the IETF draft's earlier versions, which most clients read. */
export function rateLimitHeaders(limit: number, remaining: number, reset: number): Record<string, string> {
  return { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': String(Math.max(remaining, 0)), 'RateLimit-Reset': String(reset) };
}
