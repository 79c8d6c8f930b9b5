import type { RequestHandler } from 'express';
import type { CheckPortsResponse, PortResult, ProbeOutcome } from '@port-checker/shared';
import { callerAddress } from './caller-address.js';
import type { Budgets } from './budgets.js';
import { parseCheckRequest, type CheckRequestPolicy } from './check-request.js';
import type { Checker } from './checker.js';
import type { CheckRecord } from './request-record.js';

export const CHECK_PORTS_PATH = '/check-ports';

/** Handles `POST /check-ports` once the token and the JSON body have been checked. */
export function checkPorts(checker: Checker, policy: CheckRequestPolicy, budgets: Budgets): RequestHandler {
  return async (req, res) => {
    const client = callerAddress(req);
    const { host, ports, challenge } = parseCheckRequest(req.body, client, policy);
    const record: CheckRecord = { kind: 'ports', target: host, ports: ports.length };
    res.locals.check = record;
    const outcomes = await budgets.spend(res, { client, target: host, ports: ports.length }, () =>
      checker.check(host, ports, { challenge, requestId: res.locals.requestId }),
    );
    const body = toResponse(host, outcomes, challenge !== undefined);
    const results = Object.values(body.results);
    record.states = {};
    for (const { state } of results) record.states[state] = (record.states[state] ?? 0) + 1;
    record.accessible = results.filter((result) => result.accessible).length;
    if (challenge !== undefined) record.verified = results.filter((result) => result.verified).length;
    res.json(body);
  };
}

/**
 * The Golem port checker's answer: providers' existing clients read `results["<port>"].accessible`.
 * `verified` and `verify_error` are added only when the request carried a challenge.
 */
export function toResponse(
  host: string,
  outcomes: ReadonlyMap<number, ProbeOutcome>,
  challenged = false,
): CheckPortsResponse {
  const results: Record<string, PortResult> = {};
  let accessible = 0;
  let verified = 0;
  for (const [port, outcome] of outcomes) {
    const { state, error, attempts, latencyMs } = outcome;
    const result: PortResult = {
      accessible: state === 'open',
      error,
      state,
      attempts,
      latency_ms: latencyMs,
      ...(challenged && toVerification(outcome)),
    };
    results[String(port)] = result;
    if (result.accessible) accessible += 1;
    if (result.verified) verified += 1;
  }
  // The Golem checker's words, where "verified" means accessible; with a challenge, `verified` means
  // more (the port sent the token back), so the message counts both rather than contradict it.
  const message = challenged
    ? `${accessible} out of ${outcomes.size} ports accessible, ${verified} of them verified by the challenge`
    : `Successfully verified ${accessible} out of ${outcomes.size} ports`;
  return { success: accessible > 0, results, message, provider_ip: host };
}

function toVerification({ state, verified, verifyError }: ProbeOutcome): Pick<PortResult, 'verified' | 'verify_error'> {
  if (state !== 'open') return { verified: false, verify_error: 'Not accessible' };
  // A worker of a version without challenges drops the token and reports no verdict.
  if (verified === undefined) return { verified: false, verify_error: 'The worker that probed this port does not support challenges' };
  return { verified, verify_error: verified ? null : (verifyError ?? 'Challenge not received') };
}
