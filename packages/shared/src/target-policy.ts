import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Turns a plain IPv4 or IPv6 literal into its canonical form, IPv4-mapped IPv6 unwrapped
 * to IPv4 (a dual-stack socket reports IPv4 callers as `::ffff:a.b.c.d`).
 * Returns undefined for anything else: hostnames, shorthand such as `127.1`, octal or hex
 * parts and zone ids, which other parsers may read as an address the caller did not mean.
 */
export function parseIpLiteral(text: string): string | undefined {
  if (isIP(text) === 0 || text.includes('%')) return undefined;
  return ipaddr.process(text).toString();
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidrs = (list: string[]): Cidr[] => list.map((cidr) => ipaddr.parseCIDR(cidr));

// IANA's IPv4 special-purpose registry: nothing in it is a provider's public address.
const NON_PUBLIC_V4 = cidrs([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
]);

// IPv6 is an allow-list: global unicast only, minus the special blocks inside it
// (2001::/23 holds Teredo and other IETF protocol ranges; 2002::/16 is 6to4, which would
// let a caller aim at any IPv4 address; 2001:db8::/32 and 3fff::/20 are documentation).
// NAT64 (64:ff9b::/96, 64:ff9b:1::/48) lies outside 2000::/3 and so is refused as well.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as Cidr;
const NON_PUBLIC_V6 = cidrs(['2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20']);

const inAny = (address: ipaddr.IPv4 | ipaddr.IPv6, list: Cidr[]): boolean =>
  list.some(([network, bits]) => address.kind() === network.kind() && address.match(network, bits));

/** True for an address a public port checker may probe. `address` must come from `parseIpLiteral`. */
export function isPublicAddress(address: string): boolean {
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return !inAny(parsed, NON_PUBLIC_V4);
  return inAny(parsed, [GLOBAL_UNICAST_V6]) && !inAny(parsed, NON_PUBLIC_V6);
}

export function isAllowedTarget(address: string, allowLocalIps: boolean): boolean {
  return allowLocalIps || isPublicAddress(address);
}

// Each deny-list (the config's one array) is parsed once, not at every check and every probe.
const parsedDenyLists = new WeakMap<readonly string[], Cidr[]>();

/** True for an address inside one of `denyCidrs` (PORT_CHECKER_DENY_CIDRS), parsed by the config. */
export function isDeniedTarget(address: string, denyCidrs: readonly string[]): boolean {
  if (denyCidrs.length === 0) return false;
  let parsed = parsedDenyLists.get(denyCidrs);
  if (!parsed) parsedDenyLists.set(denyCidrs, (parsed = cidrs([...denyCidrs])));
  return inAny(ipaddr.process(address), parsed);
}
