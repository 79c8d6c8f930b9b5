// The HTTP contract of the port checker: what the API validates and answers, what the client sends
// and reads, and what the OpenAPI document describes. zod only, so providers install it alone.
export * from './check-ports.js';
export * from './check-tls.js';
export * from './errors.js';
export * from './operations.js';
export * from './routes.js';
