import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/repo.js';

// What a provider does: install the CLI's tarball alone, from the npm registry's zod and nothing of the server.
const work = mkdtempSync(join(tmpdir(), 'port-checker-client-'));
const installed = join(work, 'install');
let tarball: string;
let files: string[];
const run = (command: string, args: string[], cwd: string): string => execFileSync(command, args, { cwd, encoding: 'utf8' });

beforeAll(() => {
  run('pnpm', ['pack', '--pack-destination', work], repoPath('packages/client'));
  tarball = join(work, readdirSync(work).find((name) => name.endsWith('.tgz'))!);
  files = run('tar', ['tzf', tarball], work).trim().split('\n');
  execFileSync('mkdir', [installed]);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], installed);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the client package, packed and installed alone', () => {
  it('holds the built CLI and library only: no sources, tests or tsconfig', () => {
    expect(files).toContain('package/bin/port-checker.js');
    expect(files).toContain('package/dist/cli.js');
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    expect(files.filter((file) => /\/(src|test)\/|tsconfig|\.map$/.test(file))).toEqual([]);
  });

  it('installs with zod as its only dependency: nothing of the server in its tree', () => {
    const tree = run('npm', ['ls', '--all', '--parseable'], installed);
    const names = tree.split('\n').map((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path)?.[1]).filter(Boolean);
    expect(names.sort()).toEqual(['@port-checker/client', 'zod']);
  });

  it('runs port-checker --help and --version', () => {
    const bin = join(installed, 'node_modules/.bin/port-checker');
    expect(run(bin, ['--help'], installed)).toContain('Usage: port-checker verify --ports <list>');
    expect(run(bin, ['--version'], installed).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('can be imported as a library, the contract included', async () => {
    const script = "import('@port-checker/client').then((m) => console.log(typeof m.verifyPorts, typeof m.CheckPortsResponse.parse))";
    expect(run(process.execPath, ['-e', script], installed).trim()).toBe('function function');
  });
});
