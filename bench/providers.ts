// The many-providers load: many Golem providers starting at once, each asking about its own
// address, so no probe can be shared and every budget applies as in reality (defaults, on).
// Loopback only: provider i of a phase is 127.<block>.1.(i + 1), listens there on three ports, and
// sends its checks from that same address; each phase takes a fresh block, as fresh providers.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { percentile } from './measure.js';

export const PROVIDER_COUNT = 254;

export interface Providers {
  /** Provider i is 127.<block>.1.(i + 1), with three open ports. */
  hosts: string[];
  ports: number[][];
  close(): Promise<void>;
}

/** Three listeners (accept and hang up) on each of 127.<block>.1.1 ... 127.<block>.1.254. */
export async function startProviders(block: number): Promise<Providers> {
  const hosts = Array.from({ length: PROVIDER_COUNT }, (_, i) => `127.${block}.1.${i + 1}`);
  const servers: Server[] = [];
  const ports = await Promise.all(
    hosts.map((host) =>
      Promise.all(
        [0, 1, 2].map(async () => {
          const server = createServer((socket) => socket.destroy());
          servers.push(server);
          server.listen({ host, port: 0 });
          await once(server, 'listening');
          return (server.address() as { port: number }).port;
        }),
      ),
    ),
  );
  return {
    hosts,
    ports,
    close: async () => void (await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))),
  };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers other than 200, by status, or by error code where none came. */
  failures: Record<string, number>;
}

/**
 * `clients` loops, each sending one request at a time for `durationMs`, each for a provider no
 * other request in flight is for. Phase `phase` has providers of its own (a fresh block), so
 * earlier phases' budgets do not carry over: at most about 100 ports each per phase, what one
 * start of a provider costs.
 */
export async function runProviderLoad(options: {
  /** The API processes' URLs: client i sends to urls[i % urls.length]. */
  urls: string[];
  portsPerRequest: number;
  clients: number;
  durationMs: number;
  phase: number;
  /**
   * Requests a second, spread evenly, with up to `clients` in flight; unset: each client sends its
   * next request as soon as its last is answered (as fast as the service goes).
   */
  rate?: number | undefined;
}): Promise<LoadResult> {
  const { urls, portsPerRequest, clients, durationMs, phase, rate } = options;
  const providers = await startProviders(2 + (phase % 250));
  const agents = providers.hosts.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 1, localAddress }));
  const busy = new Set<number>();
  let next = 0;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  const endAt = started + durationMs;
  let tickets = 0;
  /** At a set rate, waits for this request's turn: the n-th is due n / rate seconds after the start. */
  const turn = async (): Promise<void> => {
    if (rate === undefined) return;
    const due = started + (tickets++ * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };

  async function client(_: unknown, index: number): Promise<void> {
    const url = urls[index % urls.length]!;
    while (performance.now() < endAt) {
      await turn();
      if (performance.now() >= endAt) break;
      while (busy.has(next % PROVIDER_COUNT)) next += 1;
      const provider = next % PROVIDER_COUNT;
      next += 1;
      busy.add(provider);
      // Today's provider names its own public address, which is also where its call comes from.
      const body = JSON.stringify({ provider_ip: providers.hosts[provider], ports: providers.ports[provider]!.slice(0, portsPerRequest) });
      const sent = performance.now();
      const status = await post(url, body, agents[provider]!);
      busy.delete(provider);
      if (status === 200) latencies.push(performance.now() - sent);
      else failures[status] = (failures[status] ?? 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  const elapsedS = (performance.now() - started) / 1000;
  for (const agent of agents) agent.destroy();
  await providers.close();
  return {
    requestsPerSecond: latencies.length / elapsedS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: latencies.length,
    failures,
  };
}

/** The answer's status, or the error's code when there was none. */
function post(url: string, body: string, agent: Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/check-ports`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.once('response', (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    req.end(body);
  });
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time a process has used so far, user + system, in microseconds (from /proc/<pid>/stat). */
export function cpuMicroseconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), counted from the state, which is field 3.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** CPU each named process spends while `run` runs, divided by `units()` (read after it). */
export async function cpuPer<T>(
  pids: Record<string, number>,
  run: () => Promise<T>,
  units: (result: T) => number,
): Promise<{ result: T; cpuUs: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicroseconds(pid)]));
  const result = await run();
  const count = units(result);
  const cpuUs: Record<string, number> = {};
  let total = 0;
  for (const [name, pid] of Object.entries(pids)) {
    cpuUs[name] = (cpuMicroseconds(pid) - before[name]!) / count;
    total += cpuUs[name];
  }
  cpuUs.total = total;
  return { result, cpuUs };
}

/** Redis's own pid, from INFO, so its CPU can be read like the apps'. */
export async function redisPid(info: () => Promise<string>): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await info())![1]);
}
