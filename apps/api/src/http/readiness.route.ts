import { Router } from 'express';
import { AppError, redisRefusal, RETRY_AFTER_SECONDS, ROUTES, type ReadyResponse } from '@port-checker/shared';
import type { Checker } from '../checks/checker.js';
import type { ProbeQueue } from '../queue/probe-queue.js';

/**
 * GET /ready: 200 when this API can answer checks, that is Redis answers, takes writes (a Redis
 * at maxmemory still answers reads, yet refuses every job and rate-limit charge) and at least one
 * worker (in any process) is connected to the queue; otherwise a 503 saying which is missing.
 * /health, by contrast, only says that the process runs.
 */
export function readinessRouter(checker: Checker, queue: ProbeQueue, queueName: string): Router {
  const router = Router();
  router.get(ROUTES.getReadiness.path, async (_req, res) => {
    if (checker.draining) {
      throw new AppError('NOT_READY', 'shutting down: finishing the checks in flight and taking no new ones');
    }
    let workers: number;
    try {
      workers = await queue.countWorkers();
    } catch (cause) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Redis does not answer', { cause, retryAfter: RETRY_AFTER_SECONDS });
    }
    try {
      await queue.checkWritable();
    } catch (cause) {
      throw new AppError('SERVICE_UNAVAILABLE', redisRefusal(cause) ?? 'Redis does not answer', { cause, retryAfter: RETRY_AFTER_SECONDS });
    }
    if (workers === 0) {
      throw new AppError('NOT_READY', `Redis answers, but no worker is connected to the queue "${queueName}"`);
    }
    const body: ReadyResponse = { status: 'ready', workers };
    res.json(body);
  });
  return router;
}
