import { z } from 'zod';
import { Port } from './check-ports.js';

/** Body of `POST /check-tls`, as today's Golem provider sends it. Unknown fields are stripped. */
export const CheckTlsRequest = z.object({
  host: z.string().describe('IPv4 or IPv6 literal whose TLS service to check'),
  port: Port.describe('TCP port of the TLS service, e.g. 443'),
  expected_ip: z
    .string()
    .nullish()
    .describe("IPv4 or IPv6 literal that must be among the certificate's IP subject alternative names"),
});
export type CheckTlsRequest = z.infer<typeof CheckTlsRequest>;

/** The answer of the Golem network's own newer checker. */
export const CheckTlsResponse = z.object({
  valid: z.boolean().describe('handshake completed, chain trusted, not expired and, if asked, expected_ip matched'),
  error: z.string().nullable().describe('why it is not valid, in words a person can act on; null when valid'),
  peer: z.string().describe('host:port checked ([host]:port for IPv6)'),
  not_after: z.string().nullable().describe("the certificate's expiry (RFC 3339), null when no certificate was seen"),
});
export type CheckTlsResponse = z.infer<typeof CheckTlsResponse>;
