import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPorts } from '../support/listeners.js';
import { descendants, waitUntilGone } from '../support/processes.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { essentials, readmeExamples } from '../support/readme-examples.js';
import { repoPath } from '../support/repo.js';

// `pnpm start` as a newcomer runs it: with REDIS_URL naming a Redis (the test's own), or without
// it, where it starts a redis-server of its own; then the API and a worker.
interface Started {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
}

let running: ChildProcess | undefined;
let startedPids: number[] = [];
let redis: RedisServer | undefined;
let scratch: string | undefined;
afterEach(async () => {
  // A failed test must not leave its processes behind, even those its signal orphaned.
  const fakes = scratch ? readdirSync(scratch).filter((name) => name.endsWith('.pid')).map((name) => Number(readFileSync(join(scratch!, name), 'utf8'))) : [];
  for (const pid of [...startedPids, ...fakes]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running?.kill('SIGKILL');
  await redis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  running = undefined;
  startedPids = [];
  redis = undefined;
  scratch = undefined;
});

const plain = stripVTControlCharacters;

/** The apps' JSON log lines among the output. */
const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);

/** Lines of output, without a terminal's carriage returns. */
const linesOf = (text: string): string[] => text.split(/\r?\n/).map((line) => line.replace(/\r/g, '').trim());

/**
 * Where `pnpm start` runs without REDIS_URL: network and mount namespaces of its own, so that the
 * "someone else's" Redis servers on 127.0.0.1:6379 (the port the apps default to) and on 6390 (the
 * port pnpm start picks for its own) are the test's, and .redis-data/ is a scratch folder
 * (the repository's stays untouched). Ctrl-C reaches this shell too: it carries on after
 * pnpm start has ended, and says how many connections each of those Redis servers received.
 */
const IN_NAMESPACES = String.raw`
set -eu
ip link set lo up
mkdir -p .redis-data
mount --bind "$SCRATCH/redis-data" .redis-data
for port in 6379 6390; do
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes     --pidfile "$SCRATCH/$port.pid" --logfile "$SCRATCH/$port.log"
  until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
  redis-cli -p "$port" config resetstat >/dev/null
done
trap true INT
pnpm start || true
for port in 6379 6390; do
  connections=$(redis-cli -p "$port" info stats | grep -o 'total_connections_received:[0-9]*')
  echo "someone else's Redis on $port: $connections, keys:$(redis-cli -p "$port" dbsize)"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
done
`;

async function pnpmStart(
  env: Record<string, string>,
  { terminal = false, ownNamespaces = false }: { terminal?: boolean; ownNamespaces?: boolean } = {},
): Promise<Started> {
  // In namespaces of its own the API has the README's port: a port free out here may be the one pnpm start
  // picks for its redis-server in there (a fresh namespace hands out the same ephemeral ports).
  const [apiPort] = ownNamespaces ? [9000] : await closedPorts(1);
  const fullEnv = {
    ...process.env,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: String(apiPort),
    PORT_CHECKER_ADMIN_PORT: '0', // the admin listeners of the API and the worker, on free ports
    ...env,
  };
  let command = ['pnpm', 'start'];
  if (ownNamespaces) {
    scratch = mkdtempSync(join(tmpdir(), 'pnpm-start-'));
    writeFileSync(join(scratch, 'in-namespaces.sh'), IN_NAMESPACES);
    execFileSync('mkdir', [join(scratch, 'redis-data')]);
    Object.assign(fullEnv, { SCRATCH: scratch });
    // As root the namespaces need no user namespace; otherwise one maps this user to root in it.
    const user = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
    command = ['unshare', ...user, '--net', '--mount', 'sh', join(scratch, 'in-namespaces.sh')];
  }
  // On a pseudo-terminal (util-linux \`script\`), as at a person's terminal; Ctrl-C is then typed into it.
  const child = terminal
    ? spawn('script', ['--quiet', '--return', '--command', command.join(' '), '/dev/null'], { cwd: repoPath(''), env: fullEnv })
    : spawn(command[0]!, command.slice(1), { cwd: repoPath(''), env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
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
    child.stderr!.on('data', look);
    child.once('exit', () => reject(new Error(`pnpm start exited:\n${output.slice(-3000)}`)));
  });
  return { child, output: () => plain(output), apiUrl: `http://127.0.0.1:${apiPort}` };
}

/** The processes `pnpm start` runs: the API and the worker, and a redis-server when it started one. */
function startedProcesses(child: ChildProcess, { redisServer }: { redisServer: boolean }): number[] {
  const tree = descendants(child.pid!);
  for (const name of ['apps/api/dist/main.js', 'apps/worker/dist/main.js']) {
    expect(tree.some(({ command }) => command.includes(name)), name).toBe(true);
  }
  expect(tree.some(({ command }) => command.startsWith('redis-server')), 'redis-server').toBe(redisServer);
  startedPids = tree.map(({ pid }) => pid);
  return startedPids;
}

describe('pnpm start', () => {
  it('with REDIS_URL uses that Redis, says so, runs the README examples as written, logs JSON when piped, warns of a misspelled variable, and stops everything on SIGTERM, one line per app', async () => {
    redis = await startRedisServer();
    const started = await pnpmStart({ REDIS_URL: redis.url, PORT_CHECKER_ALLOW_LOCAL_IPS: 'true', PORT_CHECKER_RATE_LIMT_PORTS: '5' });
    const pids = startedProcesses(started.child, { redisServer: false });
    expect(linesOf(started.output())).toContain(`using Redis at ${redis.url} (REDIS_URL)`);

    // The README's examples assume pnpm start's ports: the API on 9000, its admin listener on 9001,
    // and nothing on 9009. Here they are this run's, in the commands and in the answers shown alike.
    const [nothing] = await closedPorts(1);
    const listening = jsonLines(started.output()).find((line) => line.msg === 'api listening')!;
    const ports: Record<string, string> = {
      9000: new URL(started.apiUrl).port,
      9001: new URL(listening.metricsUrl as string).port,
      9009: String(nothing),
    };
    const here = (text: string): string => text.replace(/\b900[019]\b/g, (port) => ports[port]!);
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const { curl, shown } of examples) {
      // Only this machine is ever probed: the examples name loopback or leave the target to the caller (127.0.0.1).
      const body = JSON.parse(/-d '([^']*)'/.exec(curl)![1]!) as { provider_ip?: string; host?: string };
      expect(body.provider_ip ?? body.host ?? '127.0.0.1', curl).toBe('127.0.0.1');
      expect(shown, `the README shows no answer for ${curl}`).toBeDefined();
      const answer = JSON.parse(execFileSync('sh', ['-c', here(curl.replace('localhost:9000', '127.0.0.1:9000'))], { encoding: 'utf8' })) as Record<string, unknown>;
      expect(essentials(answer), curl).toEqual(essentials(JSON.parse(here(JSON.stringify(shown))) as Record<string, unknown>));
    }
    // The checks went through the Redis named.
    const client = new Redis(redis.url);
    expect(await client.keys('bull:port-checks:*')).not.toHaveLength(0);
    client.disconnect();

    const lines = jsonLines(started.output());
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
    const after = linesOf(started.output());
    expect(after.filter((line) => line === 'api stopped')).toHaveLength(1);
    expect(after.filter((line) => line === 'worker stopped')).toHaveLength(1);
    expect(started.output()).not.toContain('already stopping');
  });

  it('without REDIS_URL starts a redis-server of its own, never connects to a Redis it did not start, logs readable lines on a terminal, and Ctrl-C stops everything with one line each', async () => {
    // REDIS_URL empty: unset, and wins over a REDIS_URL in a developer's .env.
    const started = await pnpmStart({ REDIS_URL: '', PORT_CHECKER_DEBUG: 'true' }, { terminal: true, ownNamespaces: true });
    const pids = startedProcesses(started.child, { redisServer: true });

    const text = started.output();
    const [, port] = /started redis-server on 127\.0\.0\.1:(\d+) \(6390 is taken\), data in \.redis-data\//.exec(text) ?? [];
    expect(port, text).toBeDefined();
    expect(['6379', '6390']).not.toContain(port);
    expect(text).not.toContain('using Redis at');
    expect(text).toMatch(/INFO.*\(port-checker-api\/\d+\).*: api listening/);
    expect(text).not.toMatch(/^\{"level"/m);
    // Redis' banner and log lines go to its log file, not the terminal.
    expect(text).not.toMatch(/Ready to accept connections|Redis version=|oO0OoO0OoO0Oo/);

    started.child.stdin!.write('\x03'); // Ctrl-C, typed on the terminal
    await once(started.child, 'exit');
    await waitUntilGone(pids);

    const after = linesOf(started.output());
    for (const stopped of ['api stopped', 'worker stopped', 'redis-server stopped']) {
      expect(after.filter((line) => line === stopped), stopped).toHaveLength(1);
    }
    expect(after.indexOf('redis-server stopped')).toBeGreaterThan(Math.max(after.indexOf('api stopped'), after.indexOf('worker stopped')));
    expect(started.output()).not.toContain('already stopping');
    // The Redis servers it did not start saw not one connection from it (the one counted is the question).
    expect(after).toContain("someone else's Redis on 6379: total_connections_received:1, keys:0");
    expect(after).toContain("someone else's Redis on 6390: total_connections_received:1, keys:0");
    const log = readFileSync(join(scratch!, 'redis-data', 'redis.log'), 'utf8');
    expect(log).toContain(`Running mode=standalone, port=${port}.`);
    expect(log).toContain('Redis is now ready to exit');
    expect(existsSync(join(scratch!, 'redis-data', 'appendonlydir'))).toBe(true);
  });
});
