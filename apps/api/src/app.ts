import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger, SecuritySettings } from '@port-checker/shared';
import { requireApiToken } from './api-token.js';
import { CHECK_PORTS_PATH, checkPortsRouter } from './check-ports.route.js';
import type { CheckRequestPolicy } from './check-request.js';
import { docsRouter } from './docs.route.js';
import { errorHandler, notFound } from './error-handler.js';
import { serveMetrics, type ApiMetrics } from './metrics.js';
import type { PortChecker } from './port-checker.js';
import type { RateLimits } from './rate-limits.js';
import { readinessRouter } from './readiness.route.js';
import { requestLogger } from './request-logger.js';

export interface AppDeps {
  checker: PortChecker;
  logger: Logger;
  policy: CheckRequestPolicy;
  metrics: ApiMetrics;
  /** Named in /ready's answer when no worker serves it. */
  queueName: string;
  /** Token, proxy trust and CORS. */
  security: AppSecurity;
  /** Per-client and per-target limits (each may be configured off). */
  limits: RateLimits;
}

export type AppSecurity = Pick<SecuritySettings, 'apiToken' | 'trustProxy' | 'corsOrigins'>;

const EXPOSED_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id'];

/** Builds the HTTP app; never listens, so tests can mount it on port 0 with their own deps. */
export function createApp({ checker, logger, policy, metrics, queueName, security, limits }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: answers are checks, never cached, and hashing each one cost CPU per request.
  app.disable('etag');
  app.set('trust proxy', security.trustProxy);
  app.use(metrics.record);
  app.use(requestLogger(logger));
  app.use(helmet());
  app.use(cors({ origin: security.corsOrigins === '*' ? '*' : [...security.corsOrigins], exposedHeaders: EXPOSED_HEADERS }));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(readinessRouter(checker, queueName));
  app.get('/metrics', serveMetrics(metrics.registry));
  app.use(docsRouter());
  // Token, then the per-client limit, before the body is read: a stranger without the token
  // costs no Redis round trip, and every request with it counts, however malformed.
  app.post(CHECK_PORTS_PATH, requireApiToken(security.apiToken));
  app.post(CHECK_PORTS_PATH, limits.limitClient);
  // Any content type is read as JSON: `curl -d` sends form encoding by default.
  app.use(express.json({ limit: '16kb', type: () => true }));
  app.use(checkPortsRouter(checker, policy, limits));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
