import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readYaml, repoPath } from '../support/repo.js';

// What a provider does (README "Provider client and CLI"): pack the contract and the client, and install both
// tarballs with npm, globally, from the npm registry's zod and nothing of the server.
const PACKAGES = ['contract', 'client'] as const;
type Name = (typeof PACKAGES)[number];
const work = mkdtempSync(join(tmpdir(), 'port-checker-client-'));
const prefix = join(work, 'global');
const tarballs = {} as Record<Name, string>;
const files = {} as Record<Name, string[]>;
const manifests = {} as Record<Name, string>;
const run = (command: string, args: string[], cwd: string): string => execFileSync(command, args, { cwd, encoding: 'utf8' });

beforeAll(() => {
  for (const name of PACKAGES) {
    const dir = join(work, name);
    execFileSync('mkdir', ['-p', dir]);
    run('pnpm', ['pack', '--pack-destination', dir], repoPath(`packages/${name}`));
    tarballs[name] = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz'))!);
    files[name] = run('tar', ['tzf', tarballs[name]], dir).trim().split('\n');
    run('tar', ['xzf', tarballs[name], '-C', dir, 'package/package.json'], dir);
    manifests[name] = readFileSync(join(dir, 'package/package.json'), 'utf8');
  }
  run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', tarballs.contract, tarballs.client], work);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(PACKAGES)('the %s package, packed', (name) => {
  it('is packed with pnpm pack: npm pack stops at once and says so', () => {
    const dir = mkdtempSync(join(work, 'npm-pack-'));
    const npmPack = spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: repoPath(`packages/${name}`), encoding: 'utf8' });
    expect(npmPack.status).not.toBe(0);
    expect(npmPack.stderr).toContain("Pack this package with pnpm pack: npm pack leaves pnpm's catalog: versions unresolved.");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("has pnpm's catalog: and workspace: versions resolved and no development conditions pointing at sources it does not ship", () => {
    const packed = manifests[name];
    const manifest = JSON.parse(packed) as { version: string; dependencies: Record<string, string>; exports: unknown; scripts?: Record<string, string> };
    expect(packed).not.toMatch(/catalog:|workspace:|"development"|\.\/src\//);
    const catalog = readYaml<{ catalog: Record<string, string> }>('pnpm-workspace.yaml').catalog;
    expect(manifest.dependencies).toEqual({ zod: catalog.zod, ...(name === 'client' && { '@port-checker/contract': manifest.version }) });
    expect(manifest.exports).toEqual({ '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
    // Every file it exports is in the tarball.
    for (const target of JSON.stringify(manifest.exports).match(/\.\/dist\/[\w./-]+/g)!) expect(files[name]).toContain(`package/${target.slice(2)}`);
    expect(manifest.scripts?.prepack).toBeUndefined();
  });

  it('holds built JavaScript, its types, README and LICENSE only: no sources, tests or tsconfig', () => {
    expect(files[name]).toContain('package/dist/index.js');
    expect(files[name]).toContain('package/README.md');
    expect(files[name]).toContain('package/LICENSE');
    expect(files[name].filter((file) => /\/(src|test)\/|tsconfig|\.map$/.test(file))).toEqual([]);
  });
});

describe('the client, installed globally from the two tarballs', () => {
  const modules = join(prefix, 'lib/node_modules');

  it('holds the built CLI', () => {
    expect(files.client).toContain('package/bin/port-checker.js');
    expect(files.client).toContain('package/dist/cli.js');
  });

  it('has the contract and zod as its only dependencies: nothing of the server in its tree', () => {
    const tree = run('npm', ['ls', '--global', '--prefix', prefix, '--all', '--parseable'], work);
    const names = [...new Set(tree.split('\n').map((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path)?.[1]).filter(Boolean))];
    expect(names.sort()).toEqual(['@port-checker/client', '@port-checker/contract', 'zod']);
  });

  it('runs port-checker --help and --version', () => {
    const bin = join(prefix, 'bin/port-checker');
    expect(run(bin, ['--help'], work)).toContain('Usage: port-checker verify --ports <list>');
    expect(run(bin, ['--version'], work).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('can be imported as a library, the contract included', async () => {
    const script = "import('@port-checker/client').then((m) => console.log(typeof m.verifyPorts, typeof m.CheckPortsResponse.parse, typeof m.ROUTES.checkPorts.path))";
    expect(run(process.execPath, ['-e', script], modules).trim()).toBe('function function string');
  });
});
