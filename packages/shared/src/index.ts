// The HTTP contract lives with the client, which providers install alone; the server uses the same schemas.
export * from '@port-checker/client/contract';
export * from './check-tls.schema.js';
export * from './config.js';
export * from './deadline.js';
export * from './errors.js';
export * from './logger.js';
export * from './metrics.js';
export * from './probe-job.js';
export * from './shutdown.js';
export * from './target-policy.js';
export * from './redis-connection.js';
export * from './redis-health.js';
export * from './admin-server.js';
export * from './unknown-variables.js';
