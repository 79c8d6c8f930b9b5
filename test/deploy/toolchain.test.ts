import { describe, expect, it } from 'vitest';
import { readRepoFile, readYaml } from '../support/repo.js';

// The Node.js and pnpm versions the project names in several places must say the same thing.
const rootPackage = JSON.parse(readRepoFile('package.json')) as { engines: { node: string }; packageManager: string };
const workspace = readYaml<{ catalog: Record<string, string>; allowBuilds: Record<string, boolean>; pmOnFail: string }>(
  'pnpm-workspace.yaml',
);
const dockerBases = [...readRepoFile('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((match) => match[1]!);
const major = (range: string): number => Number(/(\d+)/.exec(range)?.[1]);

describe('Node.js versions', () => {
  it('engines accept the LTS lines 20 (from 20.12), 22 and 24', () => {
    expect(rootPackage.engines.node).toBe('^20.12.0 || ^22.0.0 || ^24.0.0');
  });

  it('every Docker stage runs a pinned Node.js 24 slim image, the major @types/node describes', () => {
    for (const base of dockerBases) expect(base).toMatch(/^node:24\.\d+\.\d+-\w+-slim$/);
    expect(major(workspace.catalog['@types/node']!)).toBe(24);
  });

  it('the README names the same versions', () => {
    const prerequisites = readRepoFile('README.md').split('\n').slice(0, 6).join(' ');
    expect(prerequisites).toMatch(/Node\.js 24 .*22 and 20\.12\+/);
  });
});

describe('pnpm versions', () => {
  const pinned = rootPackage.packageManager.replace(/^pnpm@/, '');

  it('CI and the image install the pnpm that packageManager pins', () => {
    expect(readRepoFile('.ci/run')).toContain(`PNPM_VERSION=${pinned}`);
    expect(readRepoFile('Dockerfile')).toContain(`pnpm@${pinned}`);
  });

  it('pnpm 11+ neither fails switching to the pin nor on unapproved build scripts', () => {
    expect(workspace.pmOnFail).toBe('ignore');
    expect(workspace.allowBuilds).toMatchObject({ esbuild: true });
  });
});

describe('licence', () => {
  it('LICENSE holds the licence package.json names, for the workspace and the client package', () => {
    for (const dir of ['', 'packages/client/']) {
      const { license } = JSON.parse(readRepoFile(`${dir}package.json`)) as { license: string };
      expect(license).toBe('MIT');
      expect(readRepoFile(`${dir}LICENSE`)).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    }
  });
});
