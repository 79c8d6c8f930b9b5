import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(`./${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so no build is needed first.
    alias: [
      { find: /^@port-checker\/client\/contract$/, replacement: source('packages/client/src/check-ports.schema.ts') },
      { find: /^@port-checker\/shared$/, replacement: source('packages/shared/src/index.ts') },
      { find: /^@port-checker\/client$/, replacement: source('packages/client/src/index.ts') },
    ],
  },
  test: {
    // `pnpm test` runs the first project; `pnpm test:soak` the long runs, apart.
    projects: [
      { extends: true, test: { name: 'tests', include: ['{apps,packages}/*/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['test/soak/**'] } },
      { extends: true, test: { name: 'soak', include: ['test/soak/**/*.test.ts'] } },
    ],
    globalSetup: ['./test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
