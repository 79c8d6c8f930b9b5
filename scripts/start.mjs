#!/usr/bin/env node
// `pnpm start`: the API and one worker in the foreground, for a newcomer. With REDIS_URL (in the
// environment or .env) it uses that Redis. Without it, it never uses whatever happens to answer on
// 127.0.0.1:6379 (someone else's data): it starts a redis-server of its own, on OWN_REDIS_PORT or
// on a free port if something else has that one, its data and log in .redis-data/, and hands its
// URL to the apps. Ctrl-C or SIGTERM stops everything it started (package.json `exec`s this
// script, so a SIGTERM to `pnpm start` reaches it), each app with one signal.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The port of the redis-server started here; 6379 is left to whichever Redis the machine has. */
const OWN_REDIS_PORT = 6390;
const DATA_DIR = '.redis-data';

if (existsSync('.env')) process.loadEnvFile('.env');
// Empty counts as unset, as in the apps' configuration.
const namedUrl = process.env.REDIS_URL || undefined;
// Redis under Sentinel or a Cluster: handed to the apps as it is (they refuse it alongside REDIS_URL).
const namedOther = ['REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].find((name) => process.env[name]);

/** The URL as it may be printed: a password in it is not. */
function printable(url) {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.href;
}

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** Resolves with the port if this process could listen on it (then closed again), else with undefined. */
function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port }, () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

/** A redis-server that an earlier `pnpm start` left running (killed with SIGKILL, say), from its pidfile. */
function leftoverRedis() {
  try {
    const pid = Number(readFileSync(resolve(DATA_DIR, 'redis.pid'), 'utf8').trim());
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server') ? pid : undefined;
  } catch {
    return undefined;
  }
}

// As the Dockerfile and the systemd units run them (README "Performance").
const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=16';
const apps = [];
let redis;

/**
 * Runs a child in a process group of its own: Ctrl-C at the terminal then reaches this script
 * alone, which sends each child one SIGTERM (two signals would make an app log "already stopping").
 */
function run(name, command, args, { env = process.env, stdio = 'inherit' } = {}) {
  const child = spawn(command, args, { stdio, env, detached: true });
  const exited = once(child, 'exit').then(([code, signal]) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? `code ${code}`}); stopping the rest`);
      void stop(code || 1);
    } else {
      console.error(code === 0 || signal === 'SIGTERM' ? `${name} stopped` : `${name} stopped, not cleanly (${signal ?? `exit code ${code}`})`);
      if (code) process.exitCode = code;
    }
  });
  return { name, child, exited };
}

const running = (entry) => entry && entry.child.exitCode === null && entry.child.signalCode === null;

// The apps first, so that they drain and close their Redis connections; then the Redis started here.
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  const live = apps.filter(running);
  for (const app of live) app.child.kill('SIGTERM');
  await Promise.all(live.map((app) => app.exited));
  if (running(redis)) {
    redis.child.kill('SIGTERM');
    await redis.exited;
  }
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true;
    void stop(0);
  });
}
// Should this script die of an error, what it started (in groups of their own) must not live on.
process.on('exit', () => {
  for (const entry of [...apps, redis]) if (running(entry)) entry.child.kill('SIGTERM');
});

let redisUrl;
if (namedOther) {
  console.error(`using the Redis of ${namedOther}`);
} else if (namedUrl) {
  const url = new URL(namedUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  if (!(await answers(host, Number(url.port || 6379)))) {
    console.error(`Nothing answers at ${printable(namedUrl)} (REDIS_URL).`);
    console.error('Start that Redis, or unset REDIS_URL (in the environment and in .env): pnpm start then runs a redis-server of its own.');
    process.exit(1);
  }
  console.error(`using Redis at ${printable(namedUrl)} (REDIS_URL)`);
  redisUrl = namedUrl;
} else {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error('pnpm start runs a redis-server of its own, and there is none on this machine.');
    console.error(
      'Install Redis 6.2 or newer (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or name a Redis for it in REDIS_URL, e.g. one in Docker: docker run -d -p 6380:6379 redis:7-alpine, then\n' +
        'REDIS_URL=redis://127.0.0.1:6380 pnpm start',
    );
    process.exit(1);
  }
  const leftover = leftoverRedis();
  if (leftover !== undefined) {
    console.error(`The redis-server of an earlier pnpm start still runs (pid ${leftover}, data in ${DATA_DIR}/).`);
    console.error(`Stop it (kill ${leftover}) and run pnpm start again.`);
    process.exit(1);
  }
  // Whatever holds the usual port is not ours to write to: then any free port will do.
  // A free port, but none the apps are told to listen on, which are free too until they start.
  const theirs = new Set([process.env.PORT_CHECKER_PORT || '9000', process.env.PORT_CHECKER_ADMIN_PORT || '9001', '9101'].map(Number));
  let port = await bindable(OWN_REDIS_PORT);
  for (let tries = 0; (port === undefined || theirs.has(port)) && tries < 10; tries += 1) port = await bindable(0);
  mkdirSync(DATA_DIR, { recursive: true });
  const log = resolve(DATA_DIR, 'redis.log');
  const logFd = openSync(log, 'a');
  const logStart = statSync(log).size;
  redis = run(
    'redis-server',
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', resolve(DATA_DIR),
      '--logfile', log, '--pidfile', resolve(DATA_DIR, 'redis.pid'),
      '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
    ],
    // Its banner and log go to the file, not the terminal.
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  // Ready once its own log says so: a connect alone could reach another program that took the port meanwhile.
  for (let waited = 0; ; waited += 100) {
    if (!running(redis) || waited > 30_000) {
      if (!interrupted) console.error(`redis-server did not get ready; see ${DATA_DIR}/redis.log`);
      await stop(1);
      await redis.exited;
      process.exit();
    }
    if (readFileSync(log).subarray(logStart).toString().includes('Ready to accept connections')) break;
    await sleep(100);
  }
  const taken = port === OWN_REDIS_PORT ? '' : ` (${OWN_REDIS_PORT} is taken)`;
  console.error(`started redis-server on 127.0.0.1:${port}${taken}, data in ${DATA_DIR}/`);
  redisUrl = `redis://127.0.0.1:${port}`;
}

if (!stopping) {
  const env = { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, ...process.env, ...(redisUrl && { REDIS_URL: redisUrl }) };
  apps.push(run('api', process.execPath, ['apps/api/dist/main.js'], { env }));
  apps.push(run('worker', process.execPath, ['apps/worker/dist/main.js'], { env }));
}
