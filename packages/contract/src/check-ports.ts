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
  vantages: z
    .number()
    .int()
    .min(1)
    .nullish()
    .describe("from how many vantages to probe each port, at most the checker's own number (PORT_CHECK_VANTAGES); omitted: that number"),
});
export type CheckPortsRequest = z.infer<typeof CheckPortsRequest>;

/** What one vantage found for a port, when a checker probes from several (PORT_CHECK_VANTAGES > 1). */
export const VantageResult = z.object({
  status: z
    .enum(['finished', 'timed_out', 'offline'])
    .describe(
      'finished: its probe ended and counts toward the verdict; timed_out: its probe had not ended by the deadline; ' +
        'offline: it could not probe (its job failed or was dropped); neither of the last two counts',
    ),
  state: PortState.nullable().describe('what its probe found; null unless finished'),
  error: z.string().nullable(),
  attempts: z.number().int().min(0).nullable().describe('null unless finished'),
  latency_ms: z.number().nullable(),
  region: z.string().nullable().describe("the vantage's region label, if it has one"),
  network: z.string().nullable().describe("the vantage's network label (e.g. its AS), if it has one"),
  verified: z.boolean().optional().describe('only with a challenge: whether the token arrived at this vantage'),
});
export type VantageResult = z.infer<typeof VantageResult>;

/** How the vantages' probes of a port came to its verdict. */
export const Agreement = z.object({
  asked: z.number().int().min(1).describe('vantages asked to probe the port'),
  answered: z.number().int().min(0).describe('of them, those whose probe finished: only these count'),
  agree: z.number().int().min(0).describe('finished probes that found what the verdict says (with a split, the largest group)'),
  required: z.number().int().min(1).describe('finished probes that must agree (PORT_CHECK_QUORUM)'),
});
export type Agreement = z.infer<typeof Agreement>;

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
    .record(z.string(), VantageResult)
    .optional()
    .describe("only from a checker that probes from several vantages: what each vantage asked found, by the vantage's name"),
  agreement: Agreement.optional().describe(
    'only with `vantages`: how the verdict came about. `agree` >= `required`: the state they agree on; ' +
      'fewer: the vantages disagree, and the port is not accessible (state error, saying so)',
  ),
});
export type PortResult = z.infer<typeof PortResult>;

export const CheckPortsResponse = z.object({
  success: z.boolean().describe('true when at least one port is accessible'),
  results: z.record(z.string(), PortResult).describe('one entry per unique port, keyed by the port number'),
  message: z.string(),
  provider_ip: z.string(),
});
export type CheckPortsResponse = z.infer<typeof CheckPortsResponse>;
