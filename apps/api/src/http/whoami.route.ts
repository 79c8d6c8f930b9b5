import { Router } from 'express';
import { ROUTES, type WhoamiResponse } from '@port-checker/shared';
import { callerAddress } from './caller-address.js';
import type { CheckRequestPolicy } from '../checks/check-request.js';

/**
 * GET /whoami: the caller's own address, so that neither the page at / nor a provider's client
 * needs an outside what-is-my-IP service, and the settings a client must fit its checks to.
 * No token and no Redis: it reveals only what the caller already knows or would learn from a 4xx.
 */
export function whoamiRouter(policy: CheckRequestPolicy, apiTokenRequired: boolean): Router {
  const router = Router();
  router.get(ROUTES.whoami.path, (req, res) => {
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
