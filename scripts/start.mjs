#!/usr/bin/env node
// `pnpm start`: the API and one worker in the foreground, for a newcomer. Uses the Redis at
// REDIS_URL; if nothing answers there and it is this machine, starts redis-server with its
// data in .redis-data/. Ctrl-C or SIGTERM stops everything it started (package.json `exec`s this
// script, so a SIGTERM to `pnpm start` reaches it).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
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
const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=16';
const apps = [];
let redis;
function run(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: 'inherit', env: { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, ...process.env }, ...options });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); stopping the rest`);
    stop(code ?? 1);
  });
  return child;
}

// The apps first, so that they drain and close their Redis connections; then the Redis started here.
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  const running = apps.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(running.map((child) => once(child, 'exit')));
  if (redis && redis.exitCode === null && redis.signalCode === null) redis.kill('SIGTERM');
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
  // Its own process group: Ctrl-C at the terminal reaches the apps, and Redis is stopped after them.
  redis = run('redis-server', 'redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', '.redis-data',
    '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
  ], { detached: true });
  await waitForRedis();
}

if (!stopping) {
  apps.push(run('api', process.execPath, ['apps/api/dist/main.js']));
  apps.push(run('worker', process.execPath, ['apps/worker/dist/main.js']));
}
