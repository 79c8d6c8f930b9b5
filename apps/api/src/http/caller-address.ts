import type { Request } from 'express';
import { AppError, parseIpLiteral } from '@port-checker/shared';

/**
 * The one answer to "who is asking": the socket's peer, or under `trust proxy` the address
 * Express derives from X-Forwarded-For, in canonical form (IPv4-mapped IPv6 unwrapped). It is
 * the default `provider_ip`, the per-client rate-limit key and what self-check mode compares.
 */
export function callerAddress(req: Request): string {
  const derived = req.ip ?? req.socket.remoteAddress;
  const address = derived === undefined ? undefined : parseIpLiteral(derived);
  if (address === undefined) {
    // Only a proxy chain can produce this (a socket's peer is always an address): refuse
    // rather than fall back to the proxy's address, which would then be checked or limited.
    throw new AppError('INVALID_REQUEST', `cannot tell the caller's address: got ${JSON.stringify(derived ?? null)}`);
  }
  return address;
}
