export * from './check-ports.schema.js';
export * from './check-ports.js';
export * from './port-list.js';
export * from './temporary-listeners.js';
export * from './verify.js';
export * from './verify-report.js';
