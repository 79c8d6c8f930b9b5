import { z } from 'zod';
import { Agreement, Port } from './check-ports.js';

/** Body of `POST /check-tls`, as today's Golem provider sends it. Unknown fields are stripped. */
export const CheckTlsRequest = z.object({
  host: z.string().describe('IPv4 or IPv6 literal whose TLS service to check'),
  port: Port.describe('TCP port of the TLS service, e.g. 443'),
  expected_ip: z
    .string()
    .nullish()
    .describe("IPv4 or IPv6 literal that must be among the certificate's IP subject alternative names"),
  vantages: z
    .number()
    .int()
    .min(1)
    .nullish()
    .describe("from how many vantages to make the handshake, at most the checker's PORT_CHECK_VANTAGES; omitted: one, from any worker"),
});
export type CheckTlsRequest = z.infer<typeof CheckTlsRequest>;

/** The answer of the Golem network's own newer checker. */
export const CheckTlsResponse = z.object({
  valid: z.boolean().describe('handshake completed, chain trusted, not expired and, if asked, expected_ip matched'),
  error: z.string().nullable().describe('why it is not valid, in words a person can act on; null when valid'),
  peer: z.string().describe('host:port checked ([host]:port for IPv6)'),
  not_after: z.string().nullable().describe("the certificate's expiry (RFC 3339), null when no certificate was seen"),
  // Present only when the request asked for several vantages, so answers of one keep their shape.
  vantages: z
    .record(
      z.string(),
      z.object({
        status: z.enum(['finished', 'timed_out', 'offline']).describe('as in /check-ports: only finished handshakes count'),
        valid: z.boolean().nullable().describe('null unless finished'),
        error: z.string().nullable(),
        not_after: z.string().nullable(),
      }),
    )
    .optional()
    .describe('only when the request asked for several vantages: what each handshake found, by vantage name'),
  agreement: Agreement.optional().describe('only with `vantages`: as in /check-ports; a split is not valid, saying so'),
});
export type CheckTlsResponse = z.infer<typeof CheckTlsResponse>;
