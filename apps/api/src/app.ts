import express, { type Express } from 'express';
import type { Logger } from '@port-checker/shared';
import { checkPortsRouter } from './check-ports.route.js';
import type { CheckRequestPolicy } from './check-request.js';
import { docsRouter } from './docs.route.js';
import { errorHandler, notFound } from './error-handler.js';
import { serveMetrics, type ApiMetrics } from './metrics.js';
import type { PortChecker } from './port-checker.js';
import { readinessRouter } from './readiness.route.js';
import { requestLogger } from './request-logger.js';

export interface AppDeps {
  checker: PortChecker;
  logger: Logger;
  policy: CheckRequestPolicy;
  metrics: ApiMetrics;
  /** Named in /ready's answer when no worker serves it. */
  queueName: string;
}

/** Builds the HTTP app; never listens, so tests can mount it on port 0 with their own deps. */
export function createApp({ checker, logger, policy, metrics, queueName }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metrics.record);
  app.use(requestLogger(logger));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(readinessRouter(checker, queueName));
  app.get('/metrics', serveMetrics(metrics.registry));
  app.use(docsRouter());
  // Any content type is read as JSON: `curl -d` sends form encoding by default.
  app.use(express.json({ limit: '16kb', type: () => true }));
  app.use(checkPortsRouter(checker, policy));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
