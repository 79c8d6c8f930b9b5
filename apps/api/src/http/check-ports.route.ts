import type { RequestHandler } from 'express';
import type { Budgets } from '../budgets/budgets.js';
import { portsAnswer } from '../checks/check-answer.js';
import { parseCheckRequest, type CheckRequestPolicy } from '../checks/check-request.js';
import type { Checker } from '../checks/checker.js';
import { callerAddress } from './caller-address.js';

/** Handles `POST /check-ports` once the token and the JSON body have been checked. */
export function checkPorts(checker: Checker, policy: CheckRequestPolicy, budgets: Budgets): RequestHandler {
  return async (req, res) => {
    const { record } = res.locals;
    const client = callerAddress(req);
    const { host, ports, challenge, vantages } = parseCheckRequest(req.body, client, policy);
    record.check(host, ports.length);
    // Budgets count probes: each port costs one per vantage asked.
    const cost = ports.length * (vantages ?? checker.probesPerPort);
    const { value: outcomes, headers } = await budgets.spend({ client, target: host, ports: cost }, () =>
      checker.check(host, ports, { challenge, vantages, requestId: record.id, client, onJoin: (jobId) => record.joined(jobId) }),
    );
    const body = portsAnswer(host, outcomes, challenge !== undefined);
    record.answered(body);
    res.set(headers).json(body);
  };
}
