import { z } from 'zod';

/** `GET /whoami`: what a client must fit its checks to. */
export const WhoamiResponse = z.object({
  address: z.string().describe("the caller's address as this checker sees it: what a check without provider_ip probes"),
  accepts_other_targets: z.boolean().describe('whether provider_ip may name another address (false under PORT_CHECKER_SELF_CHECK_ONLY)'),
  max_ports_per_request: z.number().int().min(1).describe('unique ports one POST /check-ports may carry'),
  api_token_required: z.boolean().describe('whether POST /check-ports needs "Authorization: Bearer <token>"'),
});
export type WhoamiResponse = z.infer<typeof WhoamiResponse>;

/** `GET /ready`: this API can answer checks. */
export const ReadyResponse = z.object({
  status: z.literal('ready'),
  workers: z.number().int().min(1).describe('workers connected to the queue'),
});
export type ReadyResponse = z.infer<typeof ReadyResponse>;

/** `GET /health`: the process runs. */
export const HealthResponse = z.object({ status: z.literal('ok') });
export type HealthResponse = z.infer<typeof HealthResponse>;
