import { Router } from 'express';
import { z } from 'zod';
import { callerAddress } from './caller-address.js';
import type { CheckRequestPolicy } from '../checks/check-request.js';

export const WHOAMI_PATH = '/whoami';

export const WhoamiResponse = z.object({
  address: z.string().describe("the caller's address as this checker sees it: what a check without provider_ip probes"),
  accepts_other_targets: z.boolean().describe('whether provider_ip may name another address (false under PORT_CHECKER_SELF_CHECK_ONLY)'),
  max_ports_per_request: z.number().int().min(1).describe('unique ports one POST /check-ports may carry'),
  api_token_required: z.boolean().describe('whether POST /check-ports needs "Authorization: Bearer <token>"'),
});
export type WhoamiResponse = z.infer<typeof WhoamiResponse>;

/**
 * GET /whoami: the caller's own address, so that neither the page at / nor a provider's client
 * needs an outside what-is-my-IP service, and the settings a client must fit its checks to.
 * No token and no Redis: it reveals only what the caller already knows or would learn from a 4xx.
 */
export function whoamiRouter(policy: CheckRequestPolicy, apiTokenRequired: boolean): Router {
  const router = Router();
  router.get(WHOAMI_PATH, (req, res) => {
    const body: WhoamiResponse = {
      address: callerAddress(req),
      accepts_other_targets: !policy.selfCheckOnly,
      max_ports_per_request: policy.maxPorts,
      api_token_required: apiTokenRequired,
    };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
