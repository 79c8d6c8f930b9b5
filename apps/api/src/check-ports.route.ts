import { Router } from 'express';
import type { CheckPortsResponse, PortResult, ProbeOutcome } from '@port-checker/shared';
import { parseCheckRequest, type CheckRequestPolicy } from './check-request.js';
import type { PortChecker } from './port-checker.js';

export const CHECK_PORTS_PATH = '/check-ports';

export function checkPortsRouter(checker: PortChecker, policy: CheckRequestPolicy): Router {
  const router = Router();
  router.post(CHECK_PORTS_PATH, async (req, res) => {
    const callerIp = req.ip ?? req.socket.remoteAddress;
    const { host, ports } = parseCheckRequest(req.body, callerIp, policy);
    res.locals.check = { target: host, ports: ports.length };
    const outcomes = await checker.check(host, ports);
    res.locals.outcomes = outcomes;
    const body = toResponse(host, outcomes);
    res.locals.check.accessible = Object.values(body.results).filter((result) => result.accessible).length;
    res.json(body);
  });
  return router;
}

/** The Golem port checker's answer: providers' existing clients read `results["<port>"].accessible`. */
export function toResponse(host: string, outcomes: ReadonlyMap<number, ProbeOutcome>): CheckPortsResponse {
  const results: Record<string, PortResult> = {};
  let accessible = 0;
  for (const [port, { state, error, attempts, latencyMs }] of outcomes) {
    results[String(port)] = { accessible: state === 'open', error, state, attempts, latency_ms: latencyMs };
    if (state === 'open') accessible += 1;
  }
  return {
    success: accessible > 0,
    results,
    message: `Successfully verified ${accessible} out of ${outcomes.size} ports`,
    provider_ip: host,
  };
}
