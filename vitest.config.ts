import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(`./${path}`, import.meta.url));

/**
 * Pure logic: no Redis (`inject('redisUrl')`, test/support/service*.ts, redis.ts), no built
 * dist files, no spawned apps; loopback listeners at most. `pnpm test:unit` runs these alone, in
 * seconds, without the global setup's build and Redis. Listed by name, not by folder, so that a
 * new test file lands in `tests` (which has the setup) until someone moves it here on purpose.
 */
const unit = [
  'apps/api/test/budgets.test.ts',
  'apps/api/test/check-request.test.ts',
  'apps/api/test/error-handler.test.ts',
  'apps/api/test/page-scripts.test.ts',
  'apps/api/test/vantage-metrics.test.ts',
  'apps/api/test/vantages.test.ts',
  'apps/worker/test/probe-port.test.ts',
  'apps/worker/test/probe-processor.test.ts',
  'apps/worker/test/probe-tls.test.ts',
  'apps/worker/test/tcp-attempt.test.ts',
  'packages/client/test/port-list.test.ts',
  'packages/client/test/temporary-listeners.test.ts',
  'packages/client/test/verify-args.test.ts',
  'packages/shared/test/config.test.ts',
  'packages/shared/test/logger.test.ts',
  'packages/shared/test/logger-secrets.test.ts',
  'packages/shared/test/shutdown.test.ts',
  'packages/shared/test/target-policy.test.ts',
  'packages/shared/test/unknown-variables.test.ts',
];

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed first.
    alias: [
      { find: /^@port-checker\/contract$/, replacement: source('packages/contract/src/index.ts') },
      { find: /^@port-checker\/shared$/, replacement: source('packages/shared/src/index.ts') },
      { find: /^@port-checker\/client$/, replacement: source('packages/client/src/index.ts') },
    ],
  },
  test: {
    // `pnpm test` runs `unit` and `tests` (every file once); `pnpm test:unit` the first alone;
    // `pnpm test:soak` the long runs, apart. The global setup (build, then one Redis) belongs to
    // the projects that need it: a root-level globalSetup would run for every project, unit too.
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'tests',
          include: ['{apps,packages}/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/soak/**', ...unit],
          globalSetup: ['./test/support/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'soak', include: ['test/soak/**/*.test.ts'], globalSetup: ['./test/support/global-setup.ts'] } },
    ],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
