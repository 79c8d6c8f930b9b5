#!/usr/bin/env node
// `pnpm start`: the API and one worker in the foreground, for a newcomer. Uses the Redis at
// REDIS_URL; if nothing answers there and it is this machine, starts redis-server with its
// data in .redis-data/. Ctrl-C stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

if (existsSync('.env')) process.loadEnvFile('.env');
const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
const redisHost = redisUrl.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
const redisPort = Number(redisUrl.port || 6379);
const isLocal = ['127.0.0.1', 'localhost', '::1'].includes(redisHost);

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

async function waitForRedis() {
  for (let i = 0; i < 50; i += 1) {
    if (await answers(redisHost, redisPort)) return;
    await sleep(100);
  }
  throw new Error(`redis-server did not start on port ${redisPort}`);
}

// As the Dockerfile and the systemd units run them (README "Performance").
const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=256';
const children = [];
function run(name, command, args) {
  const child = spawn(command, args, { stdio: 'inherit', env: { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, ...process.env } });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); stopping the rest`);
    stop(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (!(await answers(redisHost, redisPort))) {
  const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
  if (!isLocal || !hasRedis) {
    console.error(`Nothing answers at ${redisUrl.href}.`);
    console.error(
      isLocal
        ? 'Install Redis 6.2 or newer (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
            'or run one in Docker: docker run -d -p 6379:6379 redis:7-alpine. Then run pnpm start again.'
        : 'Start that Redis, or unset REDIS_URL to use a local one.',
    );
    process.exit(1);
  }
  mkdirSync('.redis-data', { recursive: true });
  console.error(`Starting redis-server on port ${redisPort}, data in .redis-data/`);
  run('redis-server', 'redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', '.redis-data',
    '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
  ]);
  await waitForRedis();
}

run('api', process.execPath, ['apps/api/dist/main.js']);
run('worker', process.execPath, ['apps/worker/dist/main.js']);
