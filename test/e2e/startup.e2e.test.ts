import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const workDir = mkdtempSync(join(tmpdir(), 'port-checker-startup-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Starts an app's main from source in `cwd` and returns how it ended; config errors end it at once. */
function start(app: 'api' | 'worker', env: Record<string, string>, cwd = root) {
  return spawnSync(process.execPath, ['--conditions=development', '--import', tsx, join(root, `apps/${app}/src/main.ts`)], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('start-up configuration', () => {
  it.each(['api', 'worker'] as const)('stops the %s at once with exit 1 and a message naming a bad variable', (app) => {
    const { status, stderr } = start(app, { PORT_CHECK_RETRIES: 'many' });
    expect(status).toBe(1);
    expect(stderr).toContain('PORT_CHECK_RETRIES');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reads a .env file in the working directory', () => {
    writeFileSync(join(workDir, '.env'), 'PORT_CHECK_TIMEOUT=soon\n');
    const { status, stderr } = start('api', {}, workDir);
    expect(status).toBe(1);
    expect(stderr).toContain('PORT_CHECK_TIMEOUT');
  });
});
