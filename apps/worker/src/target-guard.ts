import { networkInterfaces } from 'node:os';
import { isDeniedTarget, isPublicAddress, parseIpLiteral } from '@port-checker/shared';

/** Why a worker refuses to probe an address. */
export const TARGET_REFUSALS = ['denied_target', 'own_address', 'forbidden_target'] as const;
export type TargetRefusal = (typeof TARGET_REFUSALS)[number];

export interface TargetGuardOptions {
  allowLocalIps: boolean;
  /** PORT_CHECKER_DENY_CIDRS */
  denyCidrs: readonly string[];
}

/**
 * The worker's own check of a target, before any connection to it (probes of every kind call
 * it): the API checks first, but a job written into Redis by anyone else must not get further.
 * Returns why `host` (a canonical IP literal) is refused, or undefined to go ahead.
 */
export function createTargetGuard({ allowLocalIps, denyCidrs }: TargetGuardOptions): (host: string) => TargetRefusal | undefined {
  const ownAddresses = interfaceAddresses();
  return (host) => {
    if (isDeniedTarget(host, denyCidrs)) return 'denied_target';
    // The worker's own addresses reach services that listen for it alone (Redis, metrics). Local
    // targets allowed (a developer's machine, the tests) lets its private and loopback ones through.
    if (ownAddresses().has(host) && (isPublicAddress(host) || !allowLocalIps)) return 'own_address';
    if (!allowLocalIps && !isPublicAddress(host)) return 'forbidden_target';
    return undefined;
  };
}

/** This host's interface addresses, read again at most once a second: they change (DHCP, SLAAC). */
function interfaceAddresses(): () => ReadonlySet<string> {
  let addresses = new Set<string>();
  let readAt = -Infinity;
  return () => {
    if (performance.now() - readAt >= 1000) {
      const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
      addresses = new Set(all.map(({ address }) => parseIpLiteral(address)).filter((address) => address !== undefined));
      readAt = performance.now();
    }
    return addresses;
  };
}
