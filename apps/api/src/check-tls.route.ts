import type { RequestHandler } from 'express';
import type { CheckTlsResponse } from '@port-checker/shared';
import type { Budgets } from './budgets.js';
import { callerAddress } from './caller-address.js';
import { parseTlsCheckRequest, type CheckRequestPolicy } from './check-request.js';
import type { Checker } from './checker.js';
import type { CheckRecord } from './request-record.js';

export const CHECK_TLS_PATH = '/check-tls';

/** Today's Golem provider verifies its HTTPS certificate here after its ports. A TLS check costs one port. */
export function checkTls(checker: Checker, policy: CheckRequestPolicy, budgets: Budgets): RequestHandler {
  return async (req, res) => {
    const client = callerAddress(req);
    const { host, port, expectedIp } = parseTlsCheckRequest(req.body, client, policy);
    const record: CheckRecord = { kind: 'tls', target: host, ports: 1 };
    res.locals.check = record;
    const outcome = await budgets.spend(res, { client, target: host, ports: 1 }, () =>
      checker.checkTls(host, port, { expectedIp, requestId: res.locals.requestId }),
    );
    record.valid = outcome.valid;
    const body: CheckTlsResponse = {
      valid: outcome.valid,
      error: outcome.error,
      peer: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
      not_after: outcome.notAfter,
    };
    res.json(body);
  };
}
