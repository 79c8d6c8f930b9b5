import express, { type RequestHandler } from 'express';
import { AppError } from '@port-checker/shared';

/**
 * Parses `application/json` bodies (up to 16 KiB) and refuses any other: a browser sends
 * `text/plain` or a form from any website without asking (no CORS preflight), so reading those
 * as JSON would let every site on the web use the API through its visitors.
 */
export function jsonBody(): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    // req.is is null without a body, false for a body of another type.
    if (req.is('application/json') === false) {
      const type = req.get('content-type');
      const got = type === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`;
      throw new AppError('INVALID_REQUEST', `the request body must be JSON sent as Content-Type: application/json, got ${got}`);
    }
    next();
  };
  return [requireJson, express.json({ limit: '16kb', type: 'application/json' })];
}
