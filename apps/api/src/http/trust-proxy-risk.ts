import ipaddr from 'ipaddr.js';
import { parseIpLiteral, type TrustProxy } from '@port-checker/shared';

const HARM = 'chooses its address with X-Forwarded-For (budgets, self-check, challenges)';

/**
 * The warning for a `trust proxy` setting that lets clients forge their address, or undefined.
 * A hop count believes the last hops of X-Forwarded-For whoever the peer is: safe only when the
 * proxy alone reaches the API, so not on an address other than loopback (`host`: the address
 * listened on; 0.0.0.0 and :: are every interface). `true` believes the first entry, which the
 * client wrote: unsafe anywhere. A list believes only those peers' headers, and hop count 0 none.
 */
export function trustProxyRisk(host: string, trustProxy: TrustProxy): string | undefined {
  if (trustProxy !== true && (typeof trustProxy !== 'number' || trustProxy === 0)) return undefined;
  const exposed = !isLoopback(host);
  const setting = `PORT_CHECKER_TRUST_PROXY=${String(trustProxy)}`;
  if (trustProxy !== true) {
    if (!exposed) return undefined;
    return (
      `${setting} while the API listens on ${host}: a client that reaches it directly ${HARM}; ` +
      `listen where only the proxy reaches it (PORT_CHECKER_HOST=127.0.0.1), or trust the proxy's address instead of a hop count`
    );
  }
  const where = exposed ? ` while the API listens on ${host}` : '';
  const listen = exposed ? ', and listen where only the proxy reaches it (PORT_CHECKER_HOST=127.0.0.1)' : '';
  return `${setting}${where}: any client, directly or through a proxy, ${HARM}; trust the proxy's address or its hop count instead${listen}`;
}

/** 127.0.0.0/8 or ::1 (IPv4-mapped too); a name or anything else counts as reachable from outside. */
function isLoopback(host: string): boolean {
  const address = parseIpLiteral(host);
  return address !== undefined && ipaddr.parse(address).range() === 'loopback';
}
