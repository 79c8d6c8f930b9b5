import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readYaml, repoPath } from '../support/repo.js';

// What a provider does: install the CLI's tarball alone, from the npm registry's zod and nothing of the server.
const work = mkdtempSync(join(tmpdir(), 'port-checker-client-'));
const installed = join(work, 'install');
let tarball: string;
let files: string[];
let packed: string;
const run = (command: string, args: string[], cwd: string): string => execFileSync(command, args, { cwd, encoding: 'utf8' });

beforeAll(() => {
  run('pnpm', ['pack', '--pack-destination', work], repoPath('packages/client'));
  tarball = join(work, readdirSync(work).find((name) => name.endsWith('.tgz'))!);
  files = run('tar', ['tzf', tarball], work).trim().split('\n');
  run('tar', ['xzf', tarball, '-C', work, 'package/package.json'], work);
  packed = readFileSync(join(work, 'package/package.json'), 'utf8');
  execFileSync('mkdir', [installed]);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], installed);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the client package, packed and installed alone', () => {
  it('is packed with pnpm pack: npm pack stops at once and says so', () => {
    const dir = mkdtempSync(join(work, 'npm-pack-'));
    const npmPack = spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: repoPath('packages/client'), encoding: 'utf8' });
    expect(npmPack.status).not.toBe(0);
    expect(npmPack.stderr).toContain("Pack this package with pnpm pack: npm pack leaves pnpm's catalog: versions unresolved.");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("has pnpm's catalog: versions resolved and no development conditions pointing at sources it does not ship", () => {
    const manifest = JSON.parse(packed) as { dependencies: Record<string, string>; exports: unknown; scripts?: Record<string, string> };
    expect(packed).not.toContain('catalog:');
    expect(packed).not.toContain('"development"');
    expect(packed).not.toContain('./src/');
    const catalog = readYaml<{ catalog: Record<string, string> }>('pnpm-workspace.yaml').catalog;
    expect(manifest.dependencies).toEqual({ zod: catalog.zod });
    expect(manifest.exports).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './contract': { types: './dist/check-ports.schema.d.ts', default: './dist/check-ports.schema.js' },
    });
    // Every file it exports is in the tarball.
    for (const target of JSON.stringify(manifest.exports).match(/\.\/dist\/[\w./-]+/g)!) expect(files).toContain(`package/${target.slice(2)}`);
    expect(manifest.scripts?.prepack).toBeUndefined();
  });

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
