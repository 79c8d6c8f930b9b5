import {
  closeOnSignals,
  createLogger,
  describeRedisTarget,
  loadConfigOrExit,
  shutdownTimeoutMs,
  warnUnknownVariables,
} from '@port-checker/shared';
import { startWorkerService } from './service.js';

const config = loadConfigOrExit();
const logger = createLogger({ name: 'port-checker-worker', debug: config.debug });
warnUnknownVariables(logger);
const running = await startWorkerService(config, logger);
logger.info(
  {
    queue: config.queueName,
    redis: describeRedisTarget(config.redis),
    concurrency: config.workerConcurrency,
    metricsUrl: running.metricsUrl,
    ...(config.vantage && { vantage: config.vantage.id }),
    ...(config.sourceAddress !== undefined && { sourceAddress: config.sourceAddress }),
  },
  'worker started',
);

// A probe never outlives its job's deadline; the timer ends a close that would hang anyway
// (Redis gone, for one).
closeOnSignals({ logger, close: running.close, timeoutMs: shutdownTimeoutMs(config.deadlineMs) });
