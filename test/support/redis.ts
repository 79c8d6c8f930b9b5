import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './listeners.js';

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export interface RedisServer extends TestRedis {
  port: number;
  /** Starts it again on the same port, with empty data (it keeps nothing on disk). */
  start(): Promise<void>;
}

/** A `redis-server` of the tests' own, on a free loopback port, keeping nothing on disk. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child && child.exitCode === null) return;
      const started = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        let output = '';
        started.once('error', reject);
        started.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
        started.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) resolve();
        });
      });
      started.removeAllListeners('exit');
      started.stdout!.resume();
      child = started;
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}

/**
 * Redis for a test run, never one holding someone else's data: REDIS_URL if the caller set it,
 * else a container where a Docker engine answers, else a `redis-server` started here.
 */
export async function provideTestRedis(env: NodeJS.ProcessEnv = process.env): Promise<TestRedis> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, stop: async () => {} };
  if (env.DOCKER_HOST || existsSync('/var/run/docker.sock')) {
    try {
      const { GenericContainer, Wait } = await import('testcontainers');
      const container = await new GenericContainer('redis:7-alpine')
        .withExposedPorts(6379)
        .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
        .start();
      return {
        url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
        stop: async () => void (await container.stop()),
      };
    } catch {
      // No engine behind the socket: fall through to a local redis-server.
    }
  }
  return startRedisServer();
}

export interface RedisMonitor {
  /** Every command run since the monitor started, as its arguments (the command name first). */
  readonly commands: string[][];
  /** Resolves once Redis has shown a command run after this call: everything before it is in `commands`. */
  flush(): Promise<void>;
  stop(): void;
}

/**
 * Redis' MONITOR on a plain socket (ioredis' monitor mode trips on its own ready check): what a
 * test counts here is exactly the commands Redis ran.
 */
export async function monitorRedis(url: string): Promise<RedisMonitor> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const commands: string[][] = [];
  let pending = '';
  let onLine = (_args: string[]): void => {};
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    const lines = pending.split('\r\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!/^\+\d/.test(line)) continue; // +OK
      const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, arg]) => arg!);
      commands.push(args);
      onLine(args);
    }
  });
  socket.write('MONITOR\r\n');
  await once(socket, 'data');
  return {
    commands,
    async flush() {
      const marker = `monitor-flush-${Math.random()}`;
      const seen = new Promise<void>((resolve) => (onLine = (args) => args.includes(marker) && resolve()));
      const probe = connect({ host: hostname, port: Number(port) });
      probe.write(`ECHO ${marker}\r\n`);
      await seen;
      probe.destroy();
    },
    stop: () => socket.destroy(),
  };
}
