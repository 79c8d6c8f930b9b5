import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';
import { provideTestRedis } from './redis.js';
import { repoPath } from './repo.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * One Redis for the whole run; every test isolates itself with a queue name of its own. Builds
 * once first (incremental, so seconds when nothing changed), so that the tests of what runs built
 * (`pnpm start`, the images' deploy output, the client's tarball) never build at the same time.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'apps/api', 'apps/worker', 'packages/client'], { cwd: repoPath(''), stdio: 'inherit' });
  const redis = await provideTestRedis();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
