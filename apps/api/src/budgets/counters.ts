import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Budgets as BudgetSettings } from '@port-checker/shared';
import type { Counter } from './limits.js';

/**
 * The window counters a check is charged to, those configured off left out: the client's, its
 * networks' (IPv6), and, when it checks a stranger's address, the target's and its network's.
 */
export function countersFor(settings: BudgetSettings, client: string, stranger: string | undefined): Counter[] {
  const counters: Counter[] = [{ limit: 'client', owner: clientKey(client), points: settings.clientPorts }];
  if (!isIPv4(client)) {
    counters.push({ limit: 'client_network', owner: network(client, 56), points: settings.clientPortsPer56 });
    counters.push({ limit: 'client_network', owner: network(client, 48), points: settings.clientPortsPer48 });
  }
  if (stranger !== undefined) {
    const v4 = isIPv4(stranger);
    counters.push({ limit: 'target', owner: clientKey(stranger), points: settings.targetPorts });
    counters.push({ limit: 'target_network', owner: network(stranger, v4 ? 24 : 48), points: settings.targetNetworkPorts });
  }
  return counters.filter((counter) => counter.points > 0);
}

/**
 * The caps on ports in flight a check counts against, those configured off left out: the
 * client's, and for IPv6 its /56's and /48's, so that rotating /64s buys a bounded multiple only.
 */
export function inFlightFor(settings: BudgetSettings, client: string): Counter[] {
  const caps: Counter[] = [{ limit: 'client_in_flight', owner: clientKey(client), points: settings.clientPortsInFlight }];
  if (!isIPv4(client)) {
    caps.push({ limit: 'client_network_in_flight', owner: network(client, 56), points: settings.clientPortsInFlightPer56 });
    caps.push({ limit: 'client_network_in_flight', owner: network(client, 48), points: settings.clientPortsInFlightPer48 });
  }
  return caps.filter((cap) => cap.points > 0);
}

/**
 * The budget key of one address. IPv6 addresses count per /64, the smallest block a subscriber
 * is given: counting single addresses would let one client rotate through 2^64 of them.
 */
export function clientKey(address: string): string {
  return isIPv4(address) ? address : network(address, 64);
}

/** A client's network for sharing an API process's capacity: its IPv4 /24 or IPv6 /48. */
export function clientNetwork(address: string): string {
  return network(address, isIPv4(address) ? 24 : 48);
}

// Addresses here are canonical (parseIpLiteral), so node's own test of the family is enough:
// ipaddr's parse, once per question, was 2-3 % of the API's CPU.
function network(address: string, bits: number): string {
  const base = isIPv4(address) ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return `${base.toString()}/${bits}`;
}
