import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { pnpmDeploy } from '../support/deploy.js';
import { PRODUCTION_NODE_OPTIONS } from '../support/processes.js';
import { readRepoFile, repoPath } from '../support/repo.js';

// No Docker engine runs here: the Dockerfile is checked by reading it.
interface Stage {
  base: string;
  name: string;
  instructions: Array<{ op: string; args: string }>;
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim());
  for (const line of lines.filter((l) => l && !l.startsWith('#'))) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (op === 'FROM') {
      const [, base, name] = /^(\S+)\s+AS\s+(\S+)$/i.exec(args!)!;
      stages.push({ base: base!, name: name!, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op: op!, args: args! });
    }
  }
  return stages;
}

const stages = parseDockerfile(readRepoFile('Dockerfile'));
const stage = (name: string): Stage => stages.find((s) => s.name === name)!;
const args = (s: Stage, op: string): string[] => s.instructions.filter((i) => i.op === op).map((i) => i.args);
const defaults = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });

describe('Dockerfile', () => {
  it('is multi-stage: a build stage and one small image per app', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'api', 'worker']);
  });

  it('uses a Node.js LTS image (an even major) that engines accept, everywhere', () => {
    const { engines } = JSON.parse(readRepoFile('package.json')) as { engines: { node: string } };
    const accepted = [...engines.node.matchAll(/\^(\d+)\./g)].map((match) => Number(match[1]));
    for (const { base } of stages) {
      const major = Number(/^node:(\d+)/.exec(base)?.[1]);
      expect(major % 2, base).toBe(0);
      expect(accepted, base).toContain(major);
    }
  });

  it('installs with pnpm from the lockfile, fetched before the sources are copied', () => {
    const run = args(stage('build'), 'RUN').join('\n');
    expect(run).toMatch(/pnpm@\d+\.\d+\.\d+/);
    expect(run).toContain('pnpm install --offline --frozen-lockfile');
    const ops = stage('build').instructions.map((i) => `${i.op} ${i.args}`);
    expect(ops.findIndex((o) => o === 'RUN pnpm fetch')).toBeLessThan(ops.findIndex((o) => o === 'COPY . .'));
  });

  it.each([
    ['api', `${defaults.port} ${defaults.admin.apiPort}`],
    ['worker', String(defaults.admin.workerPort)],
  ])('runs %s as a non-root user with node itself, so that SIGTERM reaches it', (name, port) => {
    const s = stage(name);
    expect(args(s, 'USER')).toEqual(['node']);
    expect(args(s, 'CMD')).toEqual(['["node", "dist/main.js"]']);
    // The heap limits the benchmark's figures were measured with (heap-limit.test.ts).
    expect(args(s, 'ENV')).toContain(`NODE_OPTIONS="${PRODUCTION_NODE_OPTIONS}"`);
    expect(args(s, 'EXPOSE')).toEqual([port]);
    const ops = s.instructions.map((i) => i.op);
    expect(ops.indexOf('USER')).toBeLessThan(ops.indexOf('CMD'));
  });

  it.each(['api', 'worker'])('labels the %s image the OCI way, with the release version and licence', (name) => {
    const labels = args(stage(name), 'LABEL').join(' ');
    const { license } = JSON.parse(readRepoFile('package.json')) as { license: string };
    const release = (JSON.parse(readRepoFile(`apps/${name}/package.json`)) as { version: string }).version;
    expect(args(stage(name), 'ARG')).toContain(`VERSION=${release}`);
    expect(labels).toContain('org.opencontainers.image.version="${VERSION}"');
    expect(labels).toContain(`org.opencontainers.image.licenses="${license}"`);
    expect(labels).toContain(`org.opencontainers.image.title="golem-port-checker-${name}"`);
  });

  it('keeps local files out of the build context', () => {
    const ignored = readRepoFile('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.env']));
  });
});

describe('what the images carry: the build stage\'s pnpm deploy output', () => {
  const out = mkdtempSync(join(tmpdir(), 'port-checker-deploy-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  // What each app reads at run time besides its node_modules: the API serves the page from public/.
  const needs: Record<string, string[]> = {
    api: ['package.json', 'dist/main.js', 'public/index.html', ...['public', 'lua'].flatMap((dir) => readdirSync(repoPath(`apps/api/${dir}`)).map((file) => `${dir}/${file}`))],
    worker: ['package.json', 'dist/main.js'],
  };

  it.each(['api', 'worker'])('holds the built %s, what it reads at run time and production dependencies, nothing else of the sources', async (name) => {
    // The image is that folder, as it is.
    expect(args(stage(name), 'COPY')).toEqual([`--from=build /out/${name} ./`]);
    const dir = join(out, name);
    await pnpmDeploy(name as 'api' | 'worker', dir);
    for (const file of needs[name]!) expect(existsSync(join(dir, file)), file).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@port-checker/shared/package.json'))).toBe(true);
    const built = readdirSync(join(dir, 'dist'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(built.filter((entry) => !entry.name.endsWith('.js')).map((entry) => entry.name)).toEqual([]);
    const top = readdirSync(dir);
    expect(top.filter((file) => ['src', 'test', 'tsconfig.json', 'tsconfig.public.json'].includes(file) || file.endsWith('.tsbuildinfo'))).toEqual([]);
    // The workspace packages it depends on: built JavaScript too, no sources, tests or tsconfig.
    const workspace = readdirSync(join(dir, 'node_modules/.pnpm')).filter((pkg) => pkg.startsWith('@port-checker+'));
    expect(workspace.length).toBeGreaterThan(0);
    for (const pkgDir of workspace) {
      const [, pkg] = /^@port-checker\+(\w+)@/.exec(pkgDir)!;
      const files = readdirSync(join(dir, 'node_modules/.pnpm', pkgDir, 'node_modules/@port-checker', pkg!));
      expect(files, pkg).toContain('dist');
      expect(files.filter((file) => ['src', 'test', 'tsconfig.json'].includes(file) || file.endsWith('.tsbuildinfo')), pkg).toEqual([]);
    }
    const devOnly = ['typescript', 'vitest', 'tsx', '@types/node', 'eslint'];
    expect(readdirSync(join(dir, 'node_modules')).filter((dep) => devOnly.includes(dep))).toEqual([]);
  }, 120_000);
});
