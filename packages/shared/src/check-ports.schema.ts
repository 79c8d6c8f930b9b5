import { z } from 'zod';

/** nmap's connect-scan vocabulary. */
export const PortState = z.enum(['open', 'closed', 'filtered', 'error']);
export type PortState = z.infer<typeof PortState>;

export const Port = z.number().int().min(1).max(65535);

/** Body of `POST /check-ports`. Unknown fields are stripped, as the Python checker ignored them. */
export const CheckPortsRequest = z.object({
  provider_ip: z
    .string()
    .nullish()
    .describe("IPv4 or IPv6 literal to check; omitted: the caller's own address"),
  ports: z.array(Port).min(1).describe('TCP ports to check; duplicates collapse'),
});
export type CheckPortsRequest = z.infer<typeof CheckPortsRequest>;

export const PortResult = z.object({
  accessible: z.boolean(),
  error: z.string().nullable(),
  state: PortState,
  attempts: z.number().int().min(0),
  latency_ms: z.number().nullable(),
});
export type PortResult = z.infer<typeof PortResult>;

export const CheckPortsResponse = z.object({
  success: z.boolean().describe('true when at least one port is accessible'),
  results: z.record(z.string(), PortResult).describe('one entry per unique port, keyed by the port number'),
  message: z.string(),
  provider_ip: z.string(),
});
export type CheckPortsResponse = z.infer<typeof CheckPortsResponse>;

export const ErrorResponse = z.object({
  detail: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
