// `pnpm bench`: measures the checker against the raw TCP floor, in one run, on loopback only.
// Starts its own Redis, the built API and worker(s), and local listeners; prints a table and
// writes bench-results/bench-<time>.json. Every loop is bounded in count and time.
//
//   pnpm bench                 the whole run (about three minutes, the attackers phase included)
//   pnpm bench --workers 2     the same with two worker processes
//   npx -y -p node@24 pnpm bench   the same on Node 24, the images' runtime (every process started uses it)
//   pnpm bench --only many-providers [--baseline <checkout>] [--profile <dir>] [--duration <s>] [--rounds <n>]
//                              only the many-providers load; with --baseline also that checkout's
//                              build, measured in the same run; --profile writes --cpu-prof files
//   pnpm bench --only scale-out [--rounds <n>] [--duration <s>] [--rate <req/s>|max] [--baseline <checkout>]
//                              only the scale-out load (bench/scale-out.ts): many providers, 1 port per
//                              request, over 1 and 3 API processes, with 1 and then 2 workers, at 600
//                              requests a second for every layout alike unless told
//   pnpm bench --only attackers [--concurrency <n>|default] [--attack-seconds <s>]
//                              only the attackers phase (bench/attackers.ts): 3 clients checking 40
//                              filtered ports each, over and over, and a provider checking its 2 open
//                              ports once a second; worker concurrency 64 unless told (`default`: unset)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { closedPorts, filteredPorts, openPorts } from '../test/support/listeners.js';
import { startRedisServer } from '../test/support/redis.js';
import { benchAttackers, formatAttackers } from './attackers.js';
import { benchManyProviders, formatManyProviders } from './many-providers.js';
import { benchScaleOut, formatScaleOut } from './scale-out.js';
import { commandsSince, connectFloor, percentile, postJson, readCommandStats, RssSampler, startStack } from './measure.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    only: { type: 'string' },
    baseline: { type: 'string' },
    profile: { type: 'string' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    rate: { type: 'string', default: '600' },
    'attack-seconds': { type: 'string', default: '25' },
  },
});
const workerCount = Number(args.workers);
const manyProvidersOptions = {
  clients: 64,
  durationMs: Number(args.duration) * 1000,
  // --baseline <dir> or name=<dir>,name=<dir>: other checkouts' builds, measured in turn with this one.
  builds: {
    ...Object.fromEntries((args.baseline?.split(',') ?? []).map((entry) => (entry.includes('=') ? entry.split('=', 2) : ['baseline', entry]))),
    checker: process.cwd(),
  },
  profileDir: args.profile,
  rounds: Number(args.rounds),
};

const scaleOutOptions = { ...manyProvidersOptions, rate: args.rate === 'max' ? undefined : Number(args.rate) };

const attackersOptions = {
  concurrency: args.concurrency === 'default' ? undefined : Number(args.concurrency),
  durationMs: Number(args['attack-seconds']) * 1000,
  workers: workerCount,
};

if (args.only === 'attackers') {
  const result = await benchAttackers(attackersOptions);
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/attackers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2));
  process.stdout.write(`\n${formatAttackers(result)}\n\nwritten to ${file}\n`);
  process.exit(0);
}

if (args.only === 'scale-out') {
  const rows = await benchScaleOut(scaleOutOptions);
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/scale-out-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(rows, null, 2));
  process.stdout.write(`\n${formatScaleOut(rows, scaleOutOptions.rate)}\n\nwritten to ${file}\n`);
  process.exit(0);
}

if (args.only !== undefined && args.only !== 'many-providers') throw new Error(`--only takes many-providers, scale-out or attackers, not ${args.only}`);

if (args.only === 'many-providers') {
  const rows = await benchManyProviders(manyProvidersOptions);
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/many-providers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(rows, null, 2));
  process.stdout.write(`\n${formatManyProviders(rows)}\n\nwritten to ${file} (with Redis calls per port by command)\n`);
  process.exit(0);
}

const redis = await startRedisServer();
const redisClient = new Redis(redis.url);
const open3 = await openPorts(3);
const open100 = await openPorts(100);
const filtered100 = await filteredPorts(100);
// Worker scaling: capacity-bound probes (each holds a slot for its whole timeout).
const scalingPorts = await filteredPorts(400);
// Last, so that no listener above can be given a port number freed here.
const closed100 = await closedPorts(100);

const baseEnv = {
  REDIS_URL: redis.url,
  PORT_CHECKER_HOST: '127.0.0.1',
  PORT_CHECKER_PORT: '0',
  PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
  PORT_CHECKER_ADMIN_PORT: '0',
  // The benchmark measures the checker, not the abuse limits (on by default in production).
  PORT_CHECKER_RATE_LIMIT_PORTS: '0',
  PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0',
  PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '0',
  PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS: '0',
};

const body = (ports: number[]): string => JSON.stringify({ provider_ip: '127.0.0.1', ports });

async function timed(url: string, ports: number[]): Promise<number> {
  const started = performance.now();
  const { status } = await postJson(`${url}/check-ports`, body(ports));
  if (status !== 200) throw new Error(`check answered ${status}`);
  return performance.now() - started;
}

async function repeat(times: number, run: () => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i += 1) samples.push(await run());
  return samples;
}

const results: Record<string, unknown> = {};
const stack = await startStack(baseEnv, workerCount);

// Warm up connections, JIT and Redis scripts before anything is measured.
await repeat(200, () => timed(stack.url, open3.ports));

const floor3 = await repeat(300, () => connectFloor(open3.ports));
const floor100 = await repeat(20, () => connectFloor(open100.ports));
results.floor = { ports3P50Ms: percentile(floor3, 50), ports100P50Ms: percentile(floor100, 50) };

const a = await repeat(300, () => timed(stack.url, open3.ports));
results.a = { p50Ms: percentile(a, 50), p99Ms: percentile(a, 99) };

const b: Record<string, unknown> = {};
for (const connections of [16, 64]) {
  const before = await readCommandStats(redisClient);
  const sampler = new RssSampler([stack.api, ...stack.workers]);
  const run = await autocannon({
    url: `${stack.url}/check-ports`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(open3.ports),
    connections,
    duration: 15,
  });
  sampler.stop();
  const redisUse = commandsSince(before, await readCommandStats(redisClient), run['2xx'] * 3);
  b[`c${connections}`] = {
    requestsPerSecond: run.requests.average,
    p50Ms: run.latency.p50,
    p99Ms: run.latency.p99,
    non2xx: run.non2xx + run.errors + run.timeouts,
    redisCommandsPerPort: redisUse.commandsPerPort,
    redisScriptCallsPerPort: redisUse.scriptCallsPerPort,
    redisCpuMicrosecondsPerPort: redisUse.cpuMicrosecondsPerPort,
    apiPeakRssMb: sampler.peakMb(stack.api),
    workerPeakRssMb: Math.max(...stack.workers.map((w) => sampler.peakMb(w))),
  };
}
results.b = b;

const beforeC = await readCommandStats(redisClient);
const c = await repeat(20, () => timed(stack.url, open100.ports));
// Sequential requests share no probe: what every port costs Redis when nothing is coalesced.
const distinct = commandsSince(beforeC, await readCommandStats(redisClient), 20 * 100);
results.c = { p50Ms: percentile(c, 50), redisCommandsPerPort: distinct.commandsPerPort, redisScriptCallsPerPort: distinct.scriptCallsPerPort, redisCpuMicrosecondsPerPort: distinct.cpuMicrosecondsPerPort };

const d = await repeat(5, () => timed(stack.url, closed100));
results.d = { wallMs: percentile(d, 50) };

const e = await timed(stack.url, filtered100.ports);
results.e = { wallMs: e };

// API memory across repeated runs: one more c=64 burst, then compare with the first.
const again = new RssSampler([stack.api]);
await autocannon({ url: `${stack.url}/check-ports`, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(open3.ports), connections: 64, duration: 10 });
again.stop();
results.apiRssRepeatMb = again.peakMb(stack.api);
await stack.stop();

// Worker scaling, when workers are the bottleneck: 400 filtered ports, 1 attempt of 0.2 s,
// 16 probes at once per worker, so one worker can finish at most 80 probes a second.
const scaling: Record<string, number> = {};
for (const workers of [1, 2]) {
  const scaled = await startStack(
    { ...baseEnv, PORT_CHECK_TIMEOUT: '0.2', PORT_CHECK_RETRIES: '1', PORT_CHECK_WORKER_CONCURRENCY: '16', PORT_CHECK_DEADLINE: '20' },
    workers,
  );
  const started = performance.now();
  const chunks = [0, 1, 2, 3].map((i) => scalingPorts.ports.slice(i * 100, (i + 1) * 100));
  await Promise.all(chunks.map((ports) => timed(scaled.url, ports)));
  scaling[`workers${workers}ProbesPerSecond`] = 400 / ((performance.now() - started) / 1000);
  await scaled.stop();
}
results.workerScaling = scaling;

const manyProviders = await benchManyProviders(manyProvidersOptions);
results.manyProviders = manyProviders;

// 1 and 3 API processes, 1 and 2 workers: about 80 s.
const scaleOut = await benchScaleOut(scaleOutOptions);
results.scaleOut = scaleOut;

// Attackers and a victim: about 35 s (25 s of load, then the last checks' 7 s deadline).
const attackers = await benchAttackers(attackersOptions);
results.attackers = attackers;

await Promise.all([open3.close(), open100.close(), filtered100.close(), scalingPorts.close()]);
await redisClient.quit();
await redis.stop();

// The report.
const floor = results.floor as { ports3P50Ms: number; ports100P50Ms: number };
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const ratio = (value: number, base: number): string => `${(value / base).toFixed(1)}×`;
const bb = b as Record<string, Record<string, number>>;
const rows: string[][] = [
  ['floor: connect + close, 3 open ports', `p50 ${ms(floor.ports3P50Ms)}`, '1×'],
  ['floor: connect + close, 100 open ports', `p50 ${ms(floor.ports100P50Ms)}`, '1×'],
  ['a. 3 open ports, sequential ×300', `p50 ${ms(percentile(a, 50))}, p99 ${ms(percentile(a, 99))}`, ratio(percentile(a, 50), floor.ports3P50Ms)],
  ...[16, 64].map((n) => [
    `b. 3 open ports, c=${n}, 15 s`,
    `${bb[`c${n}`]!.requestsPerSecond!.toFixed(0)} req/s, p50 ${ms(bb[`c${n}`]!.p50Ms!)}, p99 ${ms(bb[`c${n}`]!.p99Ms!)}, errors ${bb[`c${n}`]!.non2xx}`,
    ratio(bb[`c${n}`]!.p50Ms!, floor.ports3P50Ms),
  ]),
  ['c. 100 open ports ×20', `p50 ${ms(percentile(c, 50))}`, ratio(percentile(c, 50), floor.ports100P50Ms)],
  ['d. 100 closed ports', `wall ${ms(percentile(d, 50))}`, ratio(percentile(d, 50), floor.ports100P50Ms)],
  ['e. 100 filtered ports (3 × 5 s, 1 s apart)', `wall ${(e / 1000).toFixed(2)} s`, '-'],
  ...[16, 64].map((n) => [
    `Redis per checked port (b, c=${n})`,
    `${bb[`c${n}`]!.redisCommandsPerPort!.toFixed(1)} commands (${bb[`c${n}`]!.redisScriptCallsPerPort!.toFixed(2)} script calls), ${bb[`c${n}`]!.redisCpuMicrosecondsPerPort!.toFixed(1)} µs Redis CPU`,
    '-',
  ]),
  [
    'Redis per checked port (c, no probe shared)',
    `${distinct.commandsPerPort.toFixed(1)} commands (${distinct.scriptCallsPerPort.toFixed(2)} script calls), ${distinct.cpuMicrosecondsPerPort.toFixed(1)} µs Redis CPU`,
    '-',
  ],
  ['peak RSS during b', `api ${bb.c64!.apiPeakRssMb!.toFixed(0)} MB, worker ${bb.c64!.workerPeakRssMb!.toFixed(0)} MB; api in a repeat run ${(results.apiRssRepeatMb as number).toFixed(0)} MB`, '-'],
  ['worker scaling (400 filtered probes, 16 slots/worker)', `1 worker ${scaling.workers1ProbesPerSecond!.toFixed(0)}/s, 2 workers ${scaling.workers2ProbesPerSecond!.toFixed(0)}/s`, '-'],
];
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${workerCount} worker(s)`;
process.stdout.write(`\n${machine}\n\n| measurement | result | vs floor |\n|---|---|---|\n`);
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
const shared = bb.c64!.redisCpuMicrosecondsPerPort!;
process.stdout.write(
  `\nOne Redis core carries about ${(1e6 / distinct.cpuMicrosecondsPerPort).toFixed(0)} checked ports/s when no probe is shared ` +
    `(${distinct.cpuMicrosecondsPerPort.toFixed(0)} µs each), and about ${(1e6 / shared).toFixed(0)}/s for load like b's, where ` +
    `concurrent checks of the same ports share probes (${shared.toFixed(1)} µs each).\n`,
);

process.stdout.write(`\n${formatManyProviders(manyProviders)}\n`);
process.stdout.write(`\n${formatScaleOut(scaleOut, scaleOutOptions.rate)}\n`);
process.stdout.write(`\n${formatAttackers(attackers)}\n`);

mkdirSync('bench-results', { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ machine, ...results }, null, 2));
process.stdout.write(`\nwritten to ${file}\n`);
