// The many-providers section of `pnpm bench`: the checker (1 API + 1 worker, default settings
// but for local targets) and, in the same run, a bare BullMQ round trip of no-op jobs (the
// floor), each on a Redis of its own, and a queue-less checker in one process (direct-checker.ts),
// under 64 clients asking about 1 and 3 ports per request.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { PRODUCTION_NODE_OPTIONS, spawnApp } from '../test/support/processes.js';
import { startRedisServer } from '../test/support/redis.js';
import { commandsSince, percentile, readCommandStats } from './measure.js';
import { cpuPer, redisPid, runProviderLoad, type LoadResult } from './providers.js';

export interface ManyProvidersRow extends LoadResult {
  stack: string;
  portsPerRequest: number;
  /** CPU µs per checked port, by process, and their total. */
  cpuUsPerPort: Record<string, number>;
  redisCommandsPerPort: number;
  redisScriptCallsPerPort: number;
  /** Calls per checked port of each Redis command (scripts' inner commands included). */
  commandsPerPort: Record<string, number>;
}

export interface ManyProvidersOptions {
  clients: number;
  durationMs: number;
  /** Checkouts whose builds to measure, by name: before/after comparisons in one run. */
  builds: Record<string, string>;
  /** Directory for `--cpu-prof` profiles of the apps, if wanted. */
  profileDir?: string | undefined;
  /** Each build and the floor are measured this many times, in turn; the report shows medians. */
  rounds: number;
  /** Requests a second for every layout alike (see runProviderLoad); unset: as fast as it goes. */
  rate?: number | undefined;
}

const PORTS_PER_REQUEST = [1, 3] as const;
const FLOOR = 'BullMQ floor';
const DIRECT = 'direct, no queue';
let phase = 0;

export async function benchManyProviders(options: ManyProvidersOptions): Promise<ManyProvidersRow[]> {
  const rows: ManyProvidersRow[] = [];
  // In turn rather than one after the other: on a shared machine the load of others changes
  // by the minute, and medians of interleaved runs compare builds more fairly.
  for (let round = 0; round < options.rounds; round += 1) {
    for (const [name, cwd] of Object.entries(options.builds)) rows.push(...(await measureChecker(name, cwd, options)));
    rows.push(...(await measureFloor(options)));
    rows.push(...(await measureDirect(options)));
  }
  return rows;
}

/** How many API and worker processes share the one Redis. */
export interface Layout {
  apis: number;
  workers: number;
}

/**
 * The checker's build in `cwd`, as `layout` processes on a Redis of its own, under the load for
 * each of `portsPerRequest`. The clients are spread evenly over the API processes. CPU per
 * checked port is given for every process (api1, api2, ..., worker1, ..., redis) and in total.
 */
export async function measureChecker(
  name: string,
  cwd: string,
  options: ManyProvidersOptions,
  layout: Layout = { apis: 1, workers: 1 },
  portsPerRequest: readonly number[] = PORTS_PER_REQUEST,
): Promise<ManyProvidersRow[]> {
  const redis = await startRedisServer();
  const client = new Redis(redis.url);
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}/${name}`] : [];
  const env = {
    REDIS_URL: redis.url,
    PORT_CHECKER_HOST: '127.0.0.1',
    PORT_CHECKER_PORT: '0',
    PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
    PORT_CHECKER_ADMIN_PORT: '0',
  };
  const spawn = (app: 'api' | 'worker', count: number) => Array.from({ length: count }, () => spawnApp(app, env, { fromBuild: true, cwd, nodeArgs }));
  const apis = spawn('api', layout.apis);
  const workers = spawn('worker', layout.workers);
  try {
    const urls = await Promise.all(apis.map(async (api) => String((await api.waitForLine((line) => line.msg === 'api listening')).url)));
    await Promise.all(workers.map((worker) => worker.waitForLine((line) => line.msg === 'worker started')));
    const named = (prefix: string, list: { pid: number }[]) =>
      Object.fromEntries(list.map(({ pid }, i) => [list.length === 1 ? prefix : `${prefix}${i + 1}`, pid]));
    const pids = { ...named('api', apis), ...named('worker', workers), redis: await redisPid(() => client.info('server')) };
    const rows: ManyProvidersRow[] = [];
    await runProviderLoad({ urls, portsPerRequest: 3, clients: options.clients, durationMs: 3000, phase: phase++ });
    for (const k of portsPerRequest) {
      const load = () =>
        runProviderLoad({ urls, portsPerRequest: k, clients: options.clients, durationMs: options.durationMs, phase: phase++, rate: options.rate });
      rows.push(await measured(`${name}`, k, client, pids, load));
    }
    return rows;
  } finally {
    await Promise.all([...apis, ...workers].map((app) => app.stop()));
    await client.quit();
    await redis.stop();
  }
}

async function measureFloor(options: ManyProvidersOptions): Promise<ManyProvidersRow[]> {
  const redis = await startRedisServer();
  const client = new Redis(redis.url);
  const start = (role: string) => {
    const child = forkScript('./bullmq-floor.ts', [role, redis.url]);
    return { child, ready: once(child, 'message') };
  };
  const worker = start('worker');
  const producer = start('producer');
  try {
    await Promise.all([worker.ready, producer.ready]);
    const pids = { api: producer.child.pid!, worker: worker.child.pid!, redis: await redisPid(() => client.info('server')) };
    const run = async (portsPerRequest: number, durationMs: number): Promise<LoadResult> => {
      const answer = once(producer.child, 'message');
      producer.child.send({ portsPerRequest, clients: options.clients, durationMs });
      return (await answer)[0] as LoadResult;
    };
    await run(3, 3000);
    const rows: ManyProvidersRow[] = [];
    for (const portsPerRequest of PORTS_PER_REQUEST) {
      rows.push(await measured(FLOOR, portsPerRequest, client, pids, () => run(portsPerRequest, options.durationMs)));
    }
    return rows;
  } finally {
    for (const { child } of [worker, producer]) await stopChild(child);
    await client.quit();
    await redis.stop();
  }
}

async function measureDirect(options: ManyProvidersOptions): Promise<ManyProvidersRow[]> {
  const child = forkScript('./direct-checker.ts', []);
  try {
    const [{ url }] = (await once(child, 'message')) as [{ url: string }];
    await runProviderLoad({ urls: [url], portsPerRequest: 3, clients: options.clients, durationMs: 3000, phase: phase++ });
    const rows: ManyProvidersRow[] = [];
    for (const portsPerRequest of PORTS_PER_REQUEST) {
      const load = () => runProviderLoad({ urls: [url], portsPerRequest, clients: options.clients, durationMs: options.durationMs, phase: phase++ });
      const { result, cpuUs } = await cpuPer({ api: child.pid! }, load, (r) => r.requests * portsPerRequest);
      const cpuUsPerPort = { api: cpuUs.api!, worker: 0, redis: 0, total: cpuUs.total! };
      rows.push({ stack: DIRECT, portsPerRequest, ...result, cpuUsPerPort, redisCommandsPerPort: 0, redisScriptCallsPerPort: 0, commandsPerPort: {} });
    }
    return rows;
  } finally {
    await stopChild(child);
  }
}

/** Runs one of the bench's own scripts in a child process, with the apps' production Node options. */
function forkScript(file: string, args: string[]): ChildProcess {
  const script = fileURLToPath(new URL(file, import.meta.url));
  return fork(script, args, { execArgv: ['--import', 'tsx'], env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS } });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}

async function measured(
  stack: string,
  portsPerRequest: number,
  client: Redis,
  pids: Record<string, number>,
  load: () => Promise<LoadResult>,
): Promise<ManyProvidersRow> {
  await client.config('RESETSTAT');
  const before = await readCommandStats(client);
  const { result, cpuUs } = await cpuPer(pids, load, (r) => r.requests * portsPerRequest);
  const ports = result.requests * portsPerRequest;
  const info = await client.info('commandstats');
  const used = commandsSince(before, await readCommandStats(client), ports);
  const commandsPerPort: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'config' && match[1] !== 'info') commandsPerPort[match[1]!] = Number(match[2]) / ports;
  }
  return {
    stack,
    portsPerRequest,
    ...result,
    cpuUsPerPort: cpuUs,
    redisCommandsPerPort: used.commandsPerPort,
    redisScriptCallsPerPort: used.scriptCallsPerPort,
    commandsPerPort,
  };
}

/** Medians over rounds of every figure, one row per stack and ports per request. */
export function medianRows(rows: ManyProvidersRow[]): ManyProvidersRow[] {
  const groups = new Map<string, ManyProvidersRow[]>();
  for (const row of rows) {
    const key = `${row.stack} ${row.portsPerRequest}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const median = (values: number[]): number => percentile(values, 50);
  return [...groups.values()].map((group) => ({
    ...group[0]!,
    requestsPerSecond: median(group.map((r) => r.requestsPerSecond)),
    p50Ms: median(group.map((r) => r.p50Ms)),
    p99Ms: median(group.map((r) => r.p99Ms)),
    requests: group.reduce((sum, r) => sum + r.requests, 0),
    failures: Object.fromEntries(
      group.flatMap((r) => Object.entries(r.failures)).reduce((all, [k, v]) => all.set(k, (all.get(k) ?? 0) + v), new Map<string, number>()),
    ),
    cpuUsPerPort: Object.fromEntries(Object.keys(group[0]!.cpuUsPerPort).map((k) => [k, median(group.map((r) => r.cpuUsPerPort[k]!))])),
    redisCommandsPerPort: median(group.map((r) => r.redisCommandsPerPort)),
    redisScriptCallsPerPort: median(group.map((r) => r.redisScriptCallsPerPort)),
  }));
}

/** Rows of the report's table (medians over rounds), floor ratios included. */
export function formatManyProviders(all: ManyProvidersRow[]): string {
  const rows = medianRows(all);
  const cpuOf = (stack: string, k: number) => rows.find((r) => r.stack === stack && r.portsPerRequest === k)?.cpuUsPerPort.total;
  const lines = [
    `| many providers, 64 clients, Node ${process.version} (median of rounds) | req/s | p50 | p99 | CPU µs per checked port: api (floor: producer; direct: its process) / worker / redis = total | vs floor | vs floor + direct | Redis cmds/port (scripts) | failures |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    // The least this design can spend: BullMQ's own round trip plus HTTP and TCP without a queue.
    const floor = cpuOf(FLOOR, r.portsPerRequest);
    const direct = cpuOf(DIRECT, r.portsPerRequest);
    const c = r.cpuUsPerPort;
    const ratio = (to: number | undefined) => (to ? `${(c.total! / to).toFixed(2)}×` : '-');
    if (r.requests === 0) {
      lines.push(`| ${r.stack}, ${r.portsPerRequest} port${r.portsPerRequest > 1 ? 's' : ''}/request | 0 | - | - | - | - | - | - | ${JSON.stringify(r.failures)} |`);
      continue;
    }
    lines.push(
      `| ${r.stack}, ${r.portsPerRequest} port${r.portsPerRequest > 1 ? 's' : ''}/request | ${r.requestsPerSecond.toFixed(0)} | ` +
        `${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${c.api!.toFixed(0)} / ${c.worker!.toFixed(0)} / ${c.redis!.toFixed(0)} = ${c.total!.toFixed(0)} | ` +
        `${ratio(floor)} | ${ratio(floor !== undefined && direct !== undefined ? floor + direct : undefined)} | ${r.redisCommandsPerPort.toFixed(1)} (${r.redisScriptCallsPerPort.toFixed(2)}) | ` +
        `${JSON.stringify(r.failures)} |`,
    );
  }
  return lines.join('\n');
}

/** CPU µs per checked port of each process but the total, e.g. `api1 310 · api2 305 · worker 420 · redis 180`. */
export function formatCpu(cpuUsPerPort: Record<string, number>): string {
  return Object.entries(cpuUsPerPort)
    .filter(([name]) => name !== 'total')
    .map(([name, us]) => `${name} ${us.toFixed(0)}`)
    .join(' · ');
}
