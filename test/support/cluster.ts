import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect, vi } from 'vitest';
import { freePort } from './listeners.js';

export interface TestCluster {
  /** REDIS_CLUSTER_NODES for the service. */
  env: Record<string, string>;
  ports: number[];
  stop(): Promise<void>;
}

/** A Redis Cluster of three masters (no replicas) on free loopback ports, keeping nothing on disk. */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'port-checker-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
    });
    child.removeAllListeners('exit');
    child.stdout!.resume();
    children.push(child);
    ports.push(port);
  }
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  // Every node must agree that every slot is served before a client may rely on the slot map.
  await vi.waitFor(
    async () => {
      for (const port of ports) {
        const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        const info = await node.cluster('INFO').finally(() => node.disconnect());
        expect(info).toContain('cluster_state:ok');
      }
    },
    { timeout: 20_000, interval: 200 },
  );
  // Should the test's own teardown never run (a hook timed out), the nodes do not outlive its process.
  const orphans = (): void => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', orphans);
  return {
    env: { REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(',') },
    ports,
    async stop() {
      process.off('exit', orphans);
      for (const child of children) {
        if (child.exitCode !== null) continue;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
