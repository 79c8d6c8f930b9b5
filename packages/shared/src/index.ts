// The HTTP contract, which providers' clients install too; the server validates and answers by it.
export * from '@port-checker/contract';
export * from './config.js';
export * from './deadline.js';
export * from './errors.js';
export * from './logger.js';
export * from './metrics.js';
export * from './probe-job.js';
export * from './probe-reply.js';
export * from './shutdown.js';
export * from './target-policy.js';
export * from './redis-connection.js';
export * from './redis-health.js';
export * from './admin-server.js';
export * from './unknown-variables.js';
export * from './vantage.js';
