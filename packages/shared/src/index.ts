export * from './check-ports.schema.js';
export * from './config.js';
export * from './errors.js';
export * from './logger.js';
export * from './probe-job.js';
export * from './target-policy.js';
export * from './redis-connection.js';
