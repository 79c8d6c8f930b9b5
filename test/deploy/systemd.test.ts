import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { dockerfileDeployArgs } from '../support/deploy.js';
import { PRODUCTION_NODE_OPTIONS } from '../support/processes.js';
import { readRepoFile } from '../support/repo.js';

const API = 'deploy/systemd/golem-port-checker-api.service';
const WORKER = 'deploy/systemd/golem-port-checker-worker@.service';

/** A unit file as section → key → values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) sections[header[1]!] = section = {};
    else {
      const [, key, value] = /^([A-Za-z]+)=(.*)$/.exec(line)!;
      (section[key!] ??= []).push(value!);
    }
  }
  return sections;
}

const defaults = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
const SANDBOX = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  DynamicUser: 'yes',
  CapabilityBoundingSet: '',
};

describe.each([API, WORKER])('%s', (path) => {
  const { Service: service, Install: install } = parseUnit(readRepoFile(path));
  const value = (key: string): string | undefined => service![key]?.at(-1);

  it('reads the shared environment file, which may be absent, and restarts always', () => {
    expect(service!.EnvironmentFile).toEqual(['-/etc/golem/port-checker.env']);
    expect(value('Restart')).toBe('always');
    expect(install!.WantedBy).toEqual(['multi-user.target']);
  });

  it('runs node on the built app, logging to the journal', () => {
    expect(value('ExecStart')).toMatch(/(^|exec )\/usr\/bin\/node dist\/main\.js'?$/);
    expect(value('WorkingDirectory')).toMatch(/^\/opt\/golem-port-checker\/(api|worker)$/);
    expect(value('StandardOutput')).toBe('journal');
    // The heap limit the benchmark's figures were measured with.
    // Quoted: the value holds a space.
    expect(service!.Environment).toContain(`"NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS}"`);
  });

  it("runs a folder the README fills with the Dockerfile's own pnpm deploy (deployed-apps.test.ts starts the apps from one)", () => {
    const folder = value('WorkingDirectory')!;
    const app = folder.endsWith('/api') ? 'api' : 'worker';
    expect(readRepoFile('README.md')).toContain(`pnpm ${dockerfileDeployArgs(app).join(' ')} ${folder}\n`);
  });

  it('is sandboxed', () => {
    for (const [key, expected] of Object.entries(SANDBOX)) expect(value(key), key).toBe(expected);
  });

  it('bounds memory beyond the heap, and threads', () => {
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(service!.Environment!.join(' '))![1]);
    expect(value('MemoryMax')).toMatch(/^\d+M$/);
    expect(parseInt(value('MemoryMax')!, 10)).toBeGreaterThan(heapMb);
    expect(Number(value('TasksMax'))).toBeGreaterThanOrEqual(32);
  });

  it('gives a stop time longer than a check can take, so that SIGTERM drains', () => {
    expect(Number(value('TimeoutStopSec'))).toBeGreaterThan(defaults.deadlineMs / 1000 + 5);
  });
});

describe('the API unit', () => {
  it('says, beside the environment file, to listen on loopback behind a reverse proxy, and changes no default itself', () => {
    const text = readRepoFile(API);
    const comments = text.slice(0, text.indexOf('EnvironmentFile=')).split('\n').filter((line) => line.startsWith('#')).join('\n');
    expect(comments).toMatch(/reverse proxy[^]*PORT_CHECKER_HOST=127\.0\.0\.1/);
    expect(comments).toContain('PORT_CHECKER_TRUST_PROXY');
    // Set in the unit, it would be overridden by the file anyway (EnvironmentFile wins), so only said.
    expect(parseUnit(text).Service!.Environment!.join(' ')).not.toContain('PORT_CHECKER_');
  });
});

describe('the worker template', () => {
  // The unit's own shell line, run with `node` replaced by printing the port it would be given.
  const adminPortOf = (instance: number): number => {
    const exec = parseUnit(readRepoFile(WORKER)).Service!.ExecStart![0]!;
    const [, script] = /^\/bin\/sh -c '(.*)'$/.exec(exec)!;
    const command = script!.replaceAll('%i', String(instance)).replaceAll('$$', '$').replace('exec /usr/bin/node dist/main.js', '; echo "$PORT_CHECKER_ADMIN_PORT"');
    return Number(spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: {} }).stdout.trim());
  };

  it('gives instance N its own admin port, instance 1 the default, none the API\'s ports', () => {
    const ports = [1, 2, 3, 4].map(adminPortOf);
    expect(ports[0]).toBe(defaults.admin.workerPort);
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect([defaults.port, defaults.admin.apiPort]).not.toContain(port);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', PORT_CHECKER_ADMIN_PORT: String(ports[1]) }).admin.workerPort).toBe(ports[1]);
  });
});

// systemd's own check, where this machine has it; it warns (on stderr) about unknown keys and
// bad values even when it exits 0.
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
describe.skipIf(!analyze)('systemd-analyze verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'units-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the API unit and an instance of the worker template without a warning', () => {
    // verify wants ExecStart's binary to exist: point the units at this machine's node.
    const copy = (path: string, name: string): void =>
      writeFileSync(join(dir, name), readRepoFile(path).replaceAll('/usr/bin/node', process.execPath));
    copy(API, 'golem-port-checker-api.service');
    copy(WORKER, 'golem-port-checker-worker@.service');
    symlinkSync(join(dir, 'golem-port-checker-worker@.service'), join(dir, 'golem-port-checker-worker@1.service'));

    const result = spawnSync(
      'systemd-analyze',
      ['verify', join(dir, 'golem-port-checker-api.service'), join(dir, 'golem-port-checker-worker@1.service')],
      { encoding: 'utf8' },
    );

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
