import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '@port-checker/shared';
import type { Budgets } from '../budgets/budgets.js';
import { callerAddress } from './caller-address.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const BEARER = /^Bearer +([\w.~+/-]+=*) *$/i;

/**
 * Requires `Authorization: Bearer <token>` when a token is configured. Digests of equal length
 * are compared, so the comparison takes the same time whatever the guess, its length included.
 * The header is never logged: the request logger writes no headers, and pino redacts them.
 */
export function requireApiToken(token: string | undefined, budgets: Budgets): RequestHandler {
  if (token === undefined) return (_req, _res, next) => next();
  const expected = sha256(token);
  return async (req, res, next) => {
    const given = BEARER.exec(req.get('authorization') ?? '')?.[1];
    if (given !== undefined && timingSafeEqual(sha256(given), expected)) return next();
    // RFC 6750 §3: say which scheme is wanted, and whether the token given was wrong.
    res.set('WWW-Authenticate', given === undefined ? 'Bearer' : 'Bearer error="invalid_token"');
    const message =
      given === undefined
        ? 'this checker requires an API token: send "Authorization: Bearer <token>"'
        : 'the API token is not valid';
    // Refusals cost the caller one port of its budget, so that guessing is not free either: past
    // the budget, the answer is 429.
    res.set(await budgets.chargeUnauthorized(callerAddress(req)));
    next(new AppError('UNAUTHORIZED', message));
  };
}
