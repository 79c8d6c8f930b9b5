import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * helmet's default headers, computed once and set in one call on every answer. helmet builds
 * them anew per request (its Content-Security-Policy string included) through a chain of a dozen
 * middleware: a visible CPU cost per check. Its defaults hold no per-request value (no nonce), so
 * the headers are the same for every answer.
 */
export function securityHeaders(): RequestHandler {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  // Without `upgrade-insecure-requests`: a deployment reached over plain http (a lab, a host behind
  // no TLS proxy) would otherwise have browsers fetch /docs' files over https, and fail.
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })({} as Request, recorder as unknown as Response, () => {});
  return (_req, res, next) => {
    res.setHeaders(headers);
    next();
  };
}
