// The HTTP contract too, for programs that read a checker's answers themselves.
export * from '@port-checker/contract';
export * from './check-ports.js';
export * from './port-list.js';
export * from './temporary-listeners.js';
export * from './verify.js';
export * from './verify-report.js';
