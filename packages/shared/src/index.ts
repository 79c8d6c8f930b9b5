export * from './check-ports.schema.js';
export * from './config.js';
export * from './errors.js';
export * from './logger.js';
export * from './metrics.js';
export * from './probe-job.js';
export * from './shutdown.js';
export * from './target-policy.js';
