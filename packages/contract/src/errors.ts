import { z } from 'zod';

/** Every error the API answers with, and its HTTP status: the whole list lives here. */
export const ErrorStatus = {
  INVALID_REQUEST: 400,
  INVALID_IP: 400,
  INVALID_PORT: 400,
  TOO_MANY_PORTS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN_TARGET: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  CHECK_FAILED: 503,
  NOT_READY: 503,
} as const;

export type ErrorCode = keyof typeof ErrorStatus;

/**
 * The budgets a check can be refused by (429 RATE_LIMITED): ports per window of a client, of a
 * client's network, of a target and of a target's network; ports in flight of a client and of a
 * client's IPv6 network.
 */
export const Limit = z.enum(['client', 'client_network', 'client_in_flight', 'client_network_in_flight', 'target', 'target_network']);
export type Limit = z.infer<typeof Limit>;

/** Every error answer: `{"detail": {"code", "message"}}`, and which budget refused a 429. */
export const ErrorResponse = z.object({
  detail: z.object({
    code: z.string(),
    message: z.string(),
    limit: Limit.optional().describe('only with 429 RATE_LIMITED: which budget has no room, for a program to act on'),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
