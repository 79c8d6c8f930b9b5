import type { TestProject } from 'vitest/node';
import { provideTestRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One Redis for the whole run; every test isolates itself with a queue name of its own. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await provideTestRedis();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
