import {
  closeOnSignals,
  createLogger,
  describeRedisTarget,
  loadConfigOrExit,
  shutdownTimeoutMs,
  warnUnknownVariables,
} from '@port-checker/shared';
import { startApi } from './server.js';

const config = loadConfigOrExit();
const logger = createLogger({ name: 'port-checker-api', debug: config.debug });
warnUnknownVariables(logger);
const api = await startApi(config, logger);
logger.info({ url: api.url, metricsUrl: api.metricsUrl, queue: config.queueName, redis: describeRedisTarget(config.redis) }, 'api listening');

// In-flight checks end by their deadline; the timer ends a shutdown that would not.
closeOnSignals({ logger, close: api.close, timeoutMs: shutdownTimeoutMs(config.deadlineMs) });
