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
  const ENGINES = '^22.0.0 || ^24.0.0 || ^26.0.0';
  const majors = [...ENGINES.matchAll(/\^(\d+)\./g)].map((match) => Number(match[1]));

  it('engines accept the LTS lines still supported: 22, 24 and 26 (20 reached its end of life), in every package that names them', () => {
    expect(rootPackage.engines.node).toBe(ENGINES);
    const packages = ['apps/api', 'apps/worker', 'packages/shared', 'packages/client'].map(
      (dir) => JSON.parse(readRepoFile(`${dir}/package.json`)) as { name: string; engines?: { node: string } },
    );
    for (const pkg of packages) if (pkg.engines) expect(pkg.engines.node, pkg.name).toBe(ENGINES);
    expect(packages.find((pkg) => pkg.name === '@port-checker/client')?.engines?.node).toBe(ENGINES);
  });

  it('every Docker stage runs a pinned Node.js 24 slim image, the major @types/node describes', () => {
    // 24, not yet 26: the production settings were measured on it (heap-limit.test.ts); see the Dockerfile's comment.
    for (const base of dockerBases) expect(base).toMatch(/^node:24\.\d+\.\d+-\w+-slim$/);
    expect(majors).toContain(24);
    expect(major(workspace.catalog['@types/node']!)).toBe(24);
  });

  it('CI runs the whole suite on the images\' Node.js, and all but the fault and browser tests on the newest LTS', () => {
    const ci = readRepoFile('.ci/run');
    expect(ci).toContain('npx -y -p node@24 -- node node_modules/vitest/vitest.mjs run --project tests --project unit\n');
    expect(ci).toContain(
      'npx -y -p node@26 -- node node_modules/vitest/vitest.mjs run --project tests --project unit apps/ packages/ test/e2e/ test/deploy/\n',
    );
    expect(Math.max(...majors)).toBe(26);
  });

  it('the README names the same versions', () => {
    const prerequisites = readRepoFile('README.md').split('\n').slice(0, 8).join(' ');
    expect(prerequisites).toContain(`Node.js ${majors.slice(0, -1).join(', ')} or ${majors.at(-1)} (26 is the active LTS, 24 the images' runtime)`);
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
