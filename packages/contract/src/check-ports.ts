import { z } from 'zod';

/** nmap's connect-scan vocabulary. */
export const PortState = z.enum(['open', 'closed', 'filtered', 'error']);
export type PortState = z.infer<typeof PortState>;

export const Port = z.number().int().min(1).max(65535);

/** What a checker accepts in one request by default (PORT_CHECK_MAX_PORTS). */
export const MAX_PORTS_PER_REQUEST = 128;

/**
 * A random token from the provider's client. The worker reports a port `verified` only when the
 * token arrives on the connection, so the answer proves that the asking machine holds the port,
 * not merely that something (a router, a honeypot, a neighbour behind the same address) accepted.
 */
export const Challenge = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/, '16 to 64 URL-safe characters: A-Z, a-z, 0-9, "_" and "-"')
  .describe(
    'Optional proof of the right machine: a random token (16-64 characters of A-Z a-z 0-9 _ -) that the ' +
      "provider's listeners write on accept; the worker reads up to 64 bytes after connecting and reports " +
      '`verified: true` only if the token arrives',
  );

/** Body of `POST /check-ports`. Unknown fields are stripped, as the Python checker ignored them. */
export const CheckPortsRequest = z.object({
  provider_ip: z
    .string()
    .nullish()
    .describe("IPv4 or IPv6 literal to check; omitted: the caller's own address"),
  ports: z.array(Port).min(1).describe('TCP ports to check; duplicates collapse'),
  challenge: Challenge.nullish(),
});
export type CheckPortsRequest = z.infer<typeof CheckPortsRequest>;

/** What one vantage found for a port, when a checker probes from several (PORT_CHECK_VANTAGES > 1). */
export const VantageResult = z.object({
  vantage: z.string().describe("the vantage's name, as its operator set it"),
  region: z.string().nullable().describe("the vantage's region label, if it has one"),
  network: z.string().nullable().describe("the vantage's network label (e.g. its AS), if it has one"),
  status: z
    .enum(['finished', 'timed_out', 'failed'])
    .describe('finished: its probe ended and counts toward the verdict; timed_out or failed: it did not, and counts for nothing'),
  state: PortState.nullable().describe('what its probe found; null unless finished'),
  error: z.string().nullable(),
  latency_ms: z.number().nullable(),
  verified: z.boolean().optional().describe('only with a challenge: whether the token arrived at this vantage'),
});
export type VantageResult = z.infer<typeof VantageResult>;

export const PortResult = z.object({
  accessible: z.boolean(),
  error: z.string().nullable(),
  state: PortState,
  attempts: z.number().int().min(0),
  latency_ms: z.number().nullable(),
  // Present only when the request carried a challenge, so answers to existing clients keep their shape.
  verified: z
    .boolean()
    .optional()
    .describe('only with a challenge: true when the token arrived on the connection, proving the asking machine answered'),
  verify_error: z
    .string()
    .nullable()
    .optional()
    .describe('only with a challenge: why the port is not verified (null when it is)'),
  // Present only when the checker probes from several vantages, so answers of one keep their shape.
  vantages: z
    .array(VantageResult)
    .optional()
    .describe('only from a checker that probes from several vantages: what each vantage asked found, in the order asked'),
  agreement: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('only with `vantages`: how many of the finished probes found what this result says (the verdict)'),
});
export type PortResult = z.infer<typeof PortResult>;

export const CheckPortsResponse = z.object({
  success: z.boolean().describe('true when at least one port is accessible'),
  results: z.record(z.string(), PortResult).describe('one entry per unique port, keyed by the port number'),
  message: z.string(),
  provider_ip: z.string(),
});
export type CheckPortsResponse = z.infer<typeof CheckPortsResponse>;
