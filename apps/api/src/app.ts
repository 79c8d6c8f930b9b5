import cors from 'cors';
import express, { type Express } from 'express';
import type { Logger, SecuritySettings } from '@port-checker/shared';
import { requireApiToken } from './api-token.js';
import type { Budgets } from './budgets.js';
import { CHECK_PORTS_PATH, checkPorts } from './check-ports.route.js';
import type { CheckRequestPolicy } from './check-request.js';
import { CHECK_TLS_PATH, checkTls } from './check-tls.route.js';
import { docsRouter } from './docs.route.js';
import { errorHandler, notFound } from './error-handler.js';
import { homeRouter } from './home.route.js';
import { jsonBody } from './json-body.js';
import type { ApiMetrics } from './metrics.js';
import type { Checker } from './checker.js';
import type { ProbeQueue } from './probe-queue.js';
import { readinessRouter } from './readiness.route.js';
import { securityHeaders } from './security-headers.js';
import { observeRequests } from './request-observer.js';
import { whoamiRouter } from './whoami.route.js';

export interface AppDeps {
  checker: Checker;
  /** For /ready: whether workers are connected. */
  probes: ProbeQueue;
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
export function createApp({ checker, probes, logger, policy, metrics, queueName, security, budgets }: AppDeps): Express {
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
  app.post(CHECK_PORTS_PATH, ...beforeCheck, checkPorts(checker, policy, budgets));
  app.post(CHECK_TLS_PATH, ...beforeCheck, checkTls(checker, policy, budgets));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(readinessRouter(checker, probes, queueName));
  app.use(docsRouter());
  app.use(homeRouter());
  app.use(whoamiRouter(policy, security.apiToken !== undefined));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
