import cors from 'cors';
import express, { type Express } from 'express';
import { ROUTES, type HealthResponse, type Logger, type SecuritySettings } from '@port-checker/shared';
import { requireApiToken } from './http/api-token.js';
import type { Budgets } from './budgets/budgets.js';
import { checkPorts } from './http/check-ports.route.js';
import type { CheckRequestPolicy } from './checks/check-request.js';
import { checkTls } from './http/check-tls.route.js';
import { docsRouter } from './http/docs.route.js';
import { errorHandler, notFound } from './http/error-handler.js';
import { homeRouter } from './http/home.route.js';
import { jsonBody } from './http/json-body.js';
import type { ApiMetrics } from './observe/metrics.js';
import type { Checker } from './checks/checker.js';
import type { ProbeQueue } from './queue/probe-queue.js';
import { readinessRouter } from './http/readiness.route.js';
import { securityHeaders } from './http/security-headers.js';
import { asCheck, observeRequests } from './observe/request-observer.js';
import { whoamiRouter } from './http/whoami.route.js';

export interface AppDeps {
  checker: Checker;
  /** For /ready: whether workers are connected. */
  queue: ProbeQueue;
  logger: Logger;
  policy: CheckRequestPolicy;
  metrics: ApiMetrics;
  /** Named in /ready's answer when no worker serves it. */
  queueName: string;
  /** Token, proxy trust and CORS. */
  security: AppSecurity;
  /** Per-client and per-target budgets in ports (each may be configured off). */
  budgets: Budgets;
}

export type AppSecurity = Pick<SecuritySettings, 'apiToken' | 'trustProxy' | 'corsOrigins'>;

const EXPOSED_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id'];

/** Builds the HTTP app; never listens, so tests can mount it on port 0 with their own deps. */
export function createApp({ checker, queue, logger, policy, metrics, queueName, security, budgets }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: answers are checks, never cached, and hashing each one cost CPU per request.
  app.disable('etag');
  app.set('trust proxy', security.trustProxy);
  app.use(observeRequests(logger, metrics));
  app.use(securityHeaders());
  if (security.corsOrigins.length > 0) {
    app.use(cors({ origin: security.corsOrigins === '*' ? '*' : [...security.corsOrigins], exposedHeaders: EXPOSED_HEADERS }));
  }
  // The checks first: they pass through no other route on their way. The token before the body
  // is read. Budgets are charged once the body says how many ports a check costs; a refusal for
  // want of the token costs one.
  const beforeCheck = [requireApiToken(security.apiToken, budgets), ...jsonBody()];
  app.post(ROUTES.checkPorts.path, asCheck('ports'), ...beforeCheck, checkPorts(checker, policy, budgets));
  app.post(ROUTES.checkTls.path, asCheck('tls'), ...beforeCheck, checkTls(checker, policy, budgets));
  app.get(ROUTES.getHealth.path, (_req, res) => {
    const body: HealthResponse = { status: 'ok' };
    res.json(body);
  });
  app.use(readinessRouter(checker, queue, queueName));
  app.use(docsRouter());
  app.use(homeRouter());
  app.use(whoamiRouter(policy, security.apiToken !== undefined));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
