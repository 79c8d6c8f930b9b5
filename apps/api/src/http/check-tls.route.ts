import type { RequestHandler } from 'express';
import type { Budgets } from '../budgets/budgets.js';
import { tlsAnswer } from '../checks/check-answer.js';
import { parseTlsCheckRequest, type CheckRequestPolicy } from '../checks/check-request.js';
import type { Checker } from '../checks/checker.js';
import { callerAddress } from './caller-address.js';

/** Today's Golem provider verifies its HTTPS certificate here after its ports. A TLS check costs one port per vantage asked. */
export function checkTls(checker: Checker, policy: CheckRequestPolicy, budgets: Budgets): RequestHandler {
  return async (req, res) => {
    const { record } = res.locals;
    const client = callerAddress(req);
    const { host, port, expectedIp, vantages } = parseTlsCheckRequest(req.body, client, policy);
    record.check(host, 1);
    const { value: outcome, headers } = await budgets.spend({ client, target: host, ports: vantages ?? 1 }, () =>
      checker.checkTls(host, port, { expectedIp, vantages, requestId: record.id, client, onJoin: (jobId) => record.joined(jobId) }),
    );
    const body = tlsAnswer(host, port, outcome);
    record.answered(body);
    res.set(headers).json(body);
  };
}
