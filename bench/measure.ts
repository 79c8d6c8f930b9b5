import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { spawnApp, type AppProcess } from '../test/support/processes.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export interface PostOptions {
  /** Another kept-alive agent than the shared one (one socket): for callers that send concurrently, or from an address of their own. */
  agent?: Agent;
  /** Extra request headers, e.g. X-Forwarded-For. */
  headers?: Record<string, string>;
  /** Rejects with 'timed out' when no answer came within this long (60 s unless told). */
  timeoutMs?: number;
}

/** One POST on a kept-alive connection: plain node:http, so the client adds little of its own. */
export function postJson(url: string, body: string, options: PostOptions = {}): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: options.agent ?? agent,
      headers: { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.setTimeout(options.timeoutMs ?? 60_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.once('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers }));
    });
    req.end(body);
  });
}

export interface Stack {
  url: string;
  api: AppProcess;
  workers: AppProcess[];
  stop: () => Promise<void>;
}

/** The built API and `workers` worker processes with `env`; resolves once all of them have started. */
export async function startStack(env: Record<string, string>, workers: number): Promise<Stack> {
  const api = spawnApp('api', env, { fromBuild: true });
  const started = Array.from({ length: workers }, () => spawnApp('worker', env, { fromBuild: true }));
  const url = String((await api.waitForLine((line) => line.msg === 'api listening')).url);
  await Promise.all(started.map((w) => w.waitForLine((line) => line.msg === 'worker started')));
  return {
    url,
    api,
    workers: started,
    stop: async () => void (await Promise.all([api.stop(), ...started.map((w) => w.stop())])),
  };
}

/** The floor: what connecting to the ports and closing costs without any checker in between. */
export async function connectFloor(ports: number[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.resetAndDestroy();
            resolve();
          });
          socket.once('error', reject);
        }),
    ),
  );
  return performance.now() - started;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface CommandStats {
  calls: number;
  scriptCalls: number;
  usec: number;
}

/** Totals of `INFO commandstats`: commands run inside BullMQ's Lua scripts count there too. */
export async function readCommandStats(redis: Redis): Promise<CommandStats> {
  const stats = { calls: 0, scriptCalls: 0, usec: 0 };
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (!match) continue;
    stats.calls += Number(match[2]);
    stats.usec += Number(match[3]);
    if (match[1] === 'evalsha' || match[1] === 'eval') stats.scriptCalls += Number(match[2]);
  }
  return stats;
}

export function commandsSince(before: CommandStats, after: CommandStats, ports: number) {
  return {
    commandsPerPort: (after.calls - before.calls) / ports,
    scriptCallsPerPort: (after.scriptCalls - before.scriptCalls) / ports,
    // EVALSHA's own time includes the commands it runs, so this counts scripts twice; the
    // figure errs high, which is the safe side for capacity planning.
    cpuMicrosecondsPerPort: (after.usec - before.usec) / ports,
  };
}

/** Peak resident memory of processes, sampled every 100 ms while a load runs. */
export class RssSampler {
  private readonly peaks = new Map<AppProcess, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(processes: AppProcess[]) {
    const sample = (): void => {
      for (const process of processes) this.peaks.set(process, Math.max(this.peaks.get(process) ?? 0, process.rss()));
    };
    sample();
    this.timer = setInterval(sample, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  peakMb(process: AppProcess): number {
    return (this.peaks.get(process) ?? 0) / 2 ** 20;
  }
}
