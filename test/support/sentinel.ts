import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import { freePort } from './listeners.js';

/** One redis-server (or sentinel) process of the test's own, on loopback. */
export interface RedisProcess {
  port: number;
  child: ChildProcess;
  /** A plain connection to this one process (not through the sentinels), for the test's own looks. */
  connect(): Redis;
}

/**
 * A master, one replica and three sentinels (quorum 2), all on free loopback ports, keeping nothing on
 * disk: what the failover tests run against. Sentinel notices a master gone after 1 s.
 */
export interface SentinelSet {
  name: string;
  /** REDIS_SENTINELS and REDIS_SENTINEL_NAME for the service. */
  env: Record<string, string>;
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** The port the sentinels name as master now. */
  masterPort(): Promise<number>;
  /** The server that is master now. */
  master(): Promise<RedisProcess>;
  /** Resolves with the new master's port once the sentinels name another than `oldPort`. */
  switched(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Resolves once every sentinel could fail over again: a quorum, and a replica in sync with the master. */
  settled(timeoutMs?: number): Promise<void>;
  /** SIGKILL, SIGSTOP or SIGCONT to one server. */
  signal(server: RedisProcess, signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

const DOWN_AFTER_MS = 1000;

async function spawnRedis(args: string[], ready: RegExp, port: number): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server ${args.join(' ')} exited with ${code}: ${output}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve();
    });
  });
  child.removeAllListeners('exit');
  child.stdout!.resume();
  return { port, child, connect: () => new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 }) };
}

export async function startSentinelSet(name = 'checks'): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'port-checker-sentinel-'));
  const server = async (replicaOf?: number): Promise<RedisProcess> => {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir];
    if (replicaOf === undefined) return spawnRedis(args, /Ready to accept connections/, port);
    return spawnRedis([...args, '--replicaof', '127.0.0.1', String(replicaOf)], /MASTER <-> REPLICA sync: Finished with success/, port);
  };
  const master = await server();
  const replica = await server(master.port);
  const sentinels: RedisProcess[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
        // Also the pause before this sentinel tries the same master again (twice this): keep it short.
        `sentinel failover-timeout ${name} 2000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(await spawnRedis([file, '--sentinel'], /\+monitor master/, port));
  }
  const ask = sentinels.map((sentinel) => sentinel.connect());
  const servers = [master, replica];
  // Should the test's own teardown never run (a hook timed out), the servers do not outlive its process.
  const orphans = (): void => [...sentinels, ...servers].forEach((s) => s.child.kill('SIGKILL'));
  process.once('exit', orphans);

  const set: SentinelSet = {
    name,
    env: { REDIS_SENTINELS: sentinels.map(({ port }) => `127.0.0.1:${port}`).join(','), REDIS_SENTINEL_NAME: name },
    servers,
    sentinels,
    async masterPort() {
      const [, port] = (await ask[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
      return Number(port);
    },
    async master() {
      const port = await set.masterPort();
      return servers.find((s) => s.port === port)!;
    },
    async switched(oldPort, timeoutMs = 15_000) {
      let port = oldPort;
      await vi.waitFor(
        async () => {
          // Every sentinel, so that no client asking any of them is sent to the old master.
          const ports = await Promise.all(
            ask.map(async (sentinel) => Number(((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[])[1])),
          );
          if (ports.some((p) => p === oldPort)) throw new Error(`the sentinels still name ${oldPort}: ${ports.join(', ')}`);
          port = ports[0]!;
        },
        { timeout: timeoutMs, interval: 50 },
      );
      return port;
    },
    async settled(timeoutMs = 20_000) {
      await vi.waitFor(
        async () => {
          for (const sentinel of ask) await sentinel.call('SENTINEL', 'CKQUORUM', name);
          const masterPort = await set.masterPort();
          for (const s of servers.filter((s) => s.port !== masterPort && s.child.exitCode === null && s.child.signalCode === null)) {
            const info = await ask[0]!.call('SENTINEL', 'REPLICAS', name);
            const text = JSON.stringify(info);
            if (!text.includes(`"${s.port}"`) || /s_down|disconnected/.test(text)) throw new Error(`replica ${s.port} not known healthy: ${text}`);
            const probe = s.connect();
            const replication = await probe.info('replication').finally(() => probe.disconnect());
            if (!replication.includes(`master_port:${masterPort}`) || !replication.includes('master_link_status:up')) {
              throw new Error(`replica ${s.port} not in sync with ${masterPort}`);
            }
          }
        },
        { timeout: timeoutMs, interval: 200 },
      );
    },
    signal(s, signal) {
      s.child.kill(signal);
    },
    async stop() {
      process.off('exit', orphans);
      for (const client of ask) client.disconnect();
      for (const s of [...sentinels, ...servers]) {
        if (s.child.exitCode !== null || s.child.signalCode === 'SIGKILL') continue;
        const exited = once(s.child, 'exit');
        s.child.kill('SIGCONT');
        s.child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await set.settled();
  return set;
}
