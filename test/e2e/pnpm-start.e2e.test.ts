import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts } from '../support/listeners.js';
import { descendants, waitUntilGone } from '../support/processes.js';
import { readRepoFile, repoPath } from '../support/repo.js';

// `pnpm start` as a newcomer runs it: its own redis-server (REDIS_URL points at a free port), the API, a worker.
interface Started {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  redisPort: number;
}

let running: ChildProcess | undefined;
let startedPids: number[] = [];
afterEach(() => {
  // A failed test must not leave its processes behind, even those its signal orphaned.
  for (const pid of startedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running?.kill('SIGKILL');
  running = undefined;
  startedPids = [];
});

const plain = stripVTControlCharacters;

async function pnpmStart(env: Record<string, string>, { terminal = false } = {}): Promise<Started> {
  const [apiPort, redisPort] = await closedPorts(2);
  const fullEnv = {
    ...process.env,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: String(apiPort),
    PORT_CHECK_WORKER_METRICS_PORT: '0',
    ...env,
  };
  // On a pseudo-terminal (util-linux `script`), as at a person's terminal; Ctrl-C is then typed into it.
  const child = terminal
    ? spawn('script', ['--quiet', '--return', '--command', 'pnpm start', '/dev/null'], { cwd: repoPath(''), env: fullEnv })
    : spawn('pnpm', ['start'], { cwd: repoPath(''), env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  running = child;
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pnpm start did not come up:\n${output.slice(-3000)}`)), 90_000);
    const look = (): void => {
      if (!/api listening/.test(output) || !/worker started/.test(output)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on('data', look);
    child.once('exit', () => reject(new Error(`pnpm start exited:\n${output.slice(-3000)}`)));
  });
  return { child, output: () => plain(output), apiUrl: `http://127.0.0.1:${apiPort}`, redisPort: redisPort! };
}

/** The processes `pnpm start` runs: redis-server, the API and the worker must all be among them. */
function startedProcesses(child: ChildProcess): number[] {
  const tree = descendants(child.pid!);
  for (const name of ['redis-server', 'apps/api/dist/main.js', 'apps/worker/dist/main.js']) {
    expect(tree.some(({ command }) => command.includes(name)), name).toBe(true);
  }
  startedPids = tree.map(({ pid }) => pid);
  return startedPids;
}

/** The README's curl commands, continuation lines joined. */
function readmeCurls(): string[] {
  const blocks = [...readRepoFile('README.md').matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, '').split('\n')).filter((line) => line.startsWith('curl '));
}

describe('pnpm start', () => {
  it('runs the README examples as written, logs JSON when piped, warns of a misspelled variable, and stops everything on SIGTERM', async () => {
    const started = await pnpmStart({ PORT_CHECKER_ALLOW_LOCAL_IPS: 'true', PORT_CHECKER_RATE_LIMT_PORTS: '5' });
    const pids = startedProcesses(started.child);

    const curls = readmeCurls();
    expect(curls.length).toBeGreaterThanOrEqual(2);
    for (const curl of curls) {
      // Only this machine is ever probed: the examples name loopback or leave the target to the caller (127.0.0.1).
      const body = JSON.parse(/-d '([^']*)'/.exec(curl)![1]!) as { provider_ip?: string; host?: string; port?: number };
      const answer = execFileSync('sh', ['-c', curl.replace('localhost:9000', started.apiUrl.replace('http://', ''))], { encoding: 'utf8' });
      if (curl.includes('/check-tls')) {
        expect(body.host, curl).toBe('127.0.0.1');
        expect(JSON.parse(answer), curl).toMatchObject({ valid: expect.any(Boolean), peer: `127.0.0.1:${body.port}` });
      } else {
        expect(['127.0.0.1', '::1', undefined]).toContain(body.provider_ip);
        expect(JSON.parse(answer), curl).toMatchObject({ results: expect.any(Object), provider_ip: '127.0.0.1' });
      }
    }

    const lines = started.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'api listening')).toHaveLength(1);
    const warnings = lines.filter((line) => line.variable === 'PORT_CHECKER_RATE_LIMT_PORTS');
    expect(warnings).toHaveLength(2); // the API's and the worker's
    for (const warning of warnings) {
      expect(warning).toMatchObject({ level: 40, closest: 'PORT_CHECKER_RATE_LIMIT_PORTS' });
      expect(warning.msg).toContain('did you mean PORT_CHECKER_RATE_LIMIT_PORTS?');
    }

    started.child.kill('SIGTERM'); // to pnpm only, as a process manager or `kill` sends it
    await once(started.child, 'exit');
    await waitUntilGone(pids);
  });

  it('logs readable lines on a terminal, also with PORT_CHECKER_DEBUG, and Ctrl-C stops the API, the worker and its Redis', async () => {
    const started = await pnpmStart({ PORT_CHECKER_DEBUG: 'true' }, { terminal: true });
    const pids = startedProcesses(started.child);

    const text = started.output();
    expect(text).toMatch(/INFO.*\(port-checker-api\/\d+\).*: api listening/);
    expect(text).not.toMatch(/^\{"level"/m);

    started.child.stdin!.write('\x03'); // Ctrl-C, typed on the terminal
    await once(started.child, 'exit');
    await waitUntilGone(pids);
    expect(started.output()).toContain('Redis is now ready to exit');
  });
});
