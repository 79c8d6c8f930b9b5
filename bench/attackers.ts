// The attackers phase of `pnpm bench` (issue "No free work, no lasting damage"): can a few clients
// that ask about filtered ports, over and over, keep a provider's own check from being answered?
// The checker runs with its default settings (budgets on) but for local targets, trusted loopback
// proxies and, unless told otherwise, PORT_CHECK_WORKER_CONCURRENCY=64, on a Redis of its own.
//
// Loopback only. Attacker i is the identity 198.51.100.(11 + i), given in X-Forwarded-For (a header
// value, never a target), and checks 40 filtered ports of its own address 127.0.0.(11 + i), one
// check after the other; no two attackers share a probe. The victim is a provider at 127.0.0.20
// that checks 2 open ports of its own address from that address, once a second, giving each
// request 8 s as today's provider does. Every loop ends by itself: the load stops starting checks
// after `durationMs`, and each check ends by its timeout.
import { execFileSync } from 'node:child_process';
import { Agent } from 'node:http';
import { filteredPorts, openPorts, type Host, type Ports } from '../test/support/listeners.js';
import { scrape } from '../test/support/metrics.js';
import { startRedisServer } from '../test/support/redis.js';
import { percentile, postJson, startStack, type Stack } from './measure.js';

export interface AttackersOptions {
  /** PORT_CHECK_WORKER_CONCURRENCY, or undefined for the worker's default. */
  concurrency: number | undefined;
  durationMs: number;
  workers: number;
}

export interface AttackersResult {
  /** The commit the apps were built from, and whether apps/ or packages/ had changes not committed. */
  revision: string;
  concurrency: string;
  durationMs: number;
  workers: number;
  victim: {
    checks: number;
    /** Answers by status, 503s by their error code ('503 CHECK_FAILED'), or 'timeout' / an error code. */
    answers: Record<string, number>;
    successRate: number;
    /** Over every check, a timed-out one counting as what it waited (8 s). */
    p50Ms: number;
    p99Ms: number;
    /** Over the checks answered 200. */
    okP50Ms: number | undefined;
    remaining: string | undefined;
  };
  attackers: Array<{ identity: string; target: string; checks: number; answers: Record<string, number>; remaining: string | undefined }>;
  /** Sums over the worker processes of their counters, by label, since the load began. */
  worker: {
    attempts: Record<string, number>;
    probes: Record<string, number>;
    dropped: Record<string, number>;
    probesInFlightAtEnd: number;
  };
}

const ATTACKERS = 3;
const PORTS_PER_ATTACK = 40;
const VICTIM = '127.0.0.20';
const VICTIM_PORTS = 2;
const VICTIM_INTERVAL_MS = 1000;
/** What today's provider gives each request. */
const VICTIM_TIMEOUT_MS = 8000;
/** An attacker refused at once (429, 503 SERVICE_UNAVAILABLE) waits this long before trying again. */
const REFUSED_PAUSE_MS = 500;
/** At most this many checks per attacker, whatever the answers. */
const MAX_ATTACKS = 200;

const attackerTarget = (i: number): string => `127.0.0.${11 + i}`;
const attackerIdentity = (i: number): string => `198.51.100.${11 + i}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface Answer {
  kind: string;
  ms: number;
  remaining: string | undefined;
}

async function ask(url: string, host: string, ports: number[], options: { agent: Agent; headers?: Record<string, string>; timeoutMs: number }): Promise<Answer> {
  const sent = performance.now();
  try {
    const answer = await postJson(`${url}/check-ports`, JSON.stringify({ provider_ip: host, ports }), options);
    let kind = String(answer.status);
    if (answer.status >= 400) {
      try {
        const code = (JSON.parse(answer.body) as { detail?: { code?: string } }).detail?.code;
        if (code !== undefined) kind += ` ${code}`;
      } catch {
        // not JSON: the status says enough
      }
    }
    const remaining = answer.headers['ratelimit-remaining'];
    return { kind, ms: performance.now() - sent, remaining: Array.isArray(remaining) ? remaining[0] : remaining };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return { kind: err.message === 'timed out' ? 'timeout' : (err.code ?? err.message), ms: performance.now() - sent, remaining: undefined };
  }
}

function revision(): string {
  try {
    const commit = execFileSync('git', ['log', '-1', '--format=%h'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'packages'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} + uncommitted changes in apps/ or packages/` : commit;
  } catch {
    return 'unknown (no git)';
  }
}

const count = (tally: Record<string, number>, kind: string): void => void (tally[kind] = (tally[kind] ?? 0) + 1);

/** The worker processes' counters summed, as `name label=value` → value. */
async function workerCounters(metricsUrls: string[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const url of metricsUrls) {
    for (const sample of await scrape(url)) {
      const key = [sample.name, ...Object.entries(sample.labels).map(([k, v]) => `${k}=${v}`)].join(' ');
      sums.set(key, (sums.get(key) ?? 0) + sample.value);
    }
  }
  return sums;
}

/** Differences of one counter's series, by its one label's value; zeros left out. */
function byLabel(before: Map<string, number>, after: Map<string, number>, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const [sampleName, label] = key.split(' ');
    if (sampleName !== name || label === undefined) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) out[label.slice(label.indexOf('=') + 1)] = delta;
  }
  return out;
}

export async function benchAttackers(options: AttackersOptions): Promise<AttackersResult> {
  const builtFrom = revision();
  const redis = await startRedisServer();
  const listeners: Ports[] = [];
  let stack: Stack | undefined;
  const agents: Agent[] = [];
  try {
    // The listeners' helpers bind any loopback address; their type names only the two the tests use.
    const attackPorts = await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => filteredPorts(PORTS_PER_ATTACK, attackerTarget(i) as Host)));
    listeners.push(...attackPorts);
    const victimPorts = await openPorts(VICTIM_PORTS, VICTIM as Host);
    listeners.push(victimPorts);

    // Defaults, but for what the scenario names and what the bench needs to run on loopback.
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      PORT_CHECKER_HOST: '127.0.0.1',
      PORT_CHECKER_PORT: '0',
      PORT_CHECKER_ADMIN_PORT: '0',
      PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
      PORT_CHECKER_TRUST_PROXY: 'loopback',
      ...(options.concurrency !== undefined && { PORT_CHECK_WORKER_CONCURRENCY: String(options.concurrency) }),
    };
    stack = await startStack(env, options.workers);
    const started = stack.workers.map((w) => w.lines.find((line) => line.msg === 'worker started')!);
    const metricsUrls = started.map((line) => String(line.metricsUrl));
    const concurrency = `${String(started[0]!.concurrency)} per worker (${options.concurrency === undefined ? 'the default' : `PORT_CHECK_WORKER_CONCURRENCY=${options.concurrency}`})`;
    const url = stack.url;
    const before = await workerCounters(metricsUrls);

    const endAt = performance.now() + options.durationMs;

    const attacker = async (i: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      const answers: Record<string, number> = {};
      let remaining: string | undefined;
      let checks = 0;
      while (performance.now() < endAt && checks < MAX_ATTACKS) {
        checks += 1;
        const answer = await ask(url, attackerTarget(i), attackPorts[i]!.ports, {
          agent,
          headers: { 'x-forwarded-for': attackerIdentity(i) },
          timeoutMs: 30_000,
        });
        count(answers, answer.kind);
        remaining = answer.remaining ?? remaining;
        if (answer.kind !== '200' && answer.ms < REFUSED_PAUSE_MS) await sleep(Math.min(REFUSED_PAUSE_MS, endAt - performance.now()));
      }
      return { identity: attackerIdentity(i), target: attackerTarget(i), checks, answers, remaining };
    };

    const victim = async () => {
      // The provider's own address, so the API sees its check as a self-check from 127.0.0.20.
      const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: VICTIM });
      agents.push(agent);
      const answers: Record<string, number> = {};
      const latencies: number[] = [];
      const okLatencies: number[] = [];
      let remaining: string | undefined;
      // Once a second; a check still unanswered a second later delays the next (one at a time).
      while (performance.now() < endAt) {
        const sent = performance.now();
        const answer = await ask(url, VICTIM, victimPorts.ports, { agent, timeoutMs: VICTIM_TIMEOUT_MS });
        count(answers, answer.kind);
        latencies.push(answer.ms);
        if (answer.kind === '200') okLatencies.push(answer.ms);
        remaining = answer.remaining ?? remaining;
        await sleep(Math.min(sent + VICTIM_INTERVAL_MS, endAt) - performance.now());
      }
      const checks = latencies.length;
      return {
        checks,
        answers,
        successRate: checks === 0 ? 0 : (answers['200'] ?? 0) / checks,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        okP50Ms: okLatencies.length > 0 ? percentile(okLatencies, 50) : undefined,
        remaining,
      };
    };

    const [victimResult, ...attackerResults] = await Promise.all([victim(), ...Array.from({ length: ATTACKERS }, (_, i) => attacker(i))]);

    // Probes end by their jobs' deadline: wait (at most 10 s) until the workers hold none.
    let after = await workerCounters(metricsUrls);
    const inFlight = (sums: Map<string, number>) => sums.get('port_checker_probes_in_flight') ?? 0;
    for (let i = 0; i < 50 && inFlight(after) > 0; i += 1) {
      await sleep(200);
      after = await workerCounters(metricsUrls);
    }

    return {
      revision: builtFrom,
      concurrency,
      durationMs: options.durationMs,
      workers: options.workers,
      victim: victimResult,
      attackers: attackerResults,
      worker: {
        attempts: byLabel(before, after, 'port_checker_probe_attempts_total'),
        probes: byLabel(before, after, 'port_checker_probes_total'),
        dropped: byLabel(before, after, 'port_checker_jobs_dropped_total'),
        probesInFlightAtEnd: inFlight(after),
      },
    };
  } finally {
    for (const agent of agents) agent.destroy();
    await stack?.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await redis.stop();
  }
}

/** The phase's rows, in the report's table format. */
export function formatAttackers(r: AttackersResult): string {
  const tally = (answers: Record<string, number>): string =>
    Object.entries(answers)
      .sort(([, a], [, b]) => b - a)
      .map(([kind, n]) => `${kind}: ${n}`)
      .join(', ') || 'none';
  const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);
  const v = r.victim;
  const failed = v.answers['503 CHECK_FAILED'] ?? 0;
  const limited = Object.entries(v.answers).filter(([kind]) => kind.startsWith('429')).reduce((a, [, n]) => a + n, 0);
  const ok = v.answers['200'] ?? 0;
  const attackAnswers: Record<string, number> = {};
  for (const a of r.attackers) for (const [kind, n] of Object.entries(a.answers)) attackAnswers[kind] = (attackAnswers[kind] ?? 0) + n;
  const rows = [
    ['worker concurrency', `${r.concurrency}, ${r.workers} worker(s); every other setting its default but local targets allowed and loopback proxies trusted`],
    [
      `victim: 2 open ports of ${VICTIM}, once a second, 8 s timeout`,
      `${v.checks} checks: 200 ${ok}, 503 CHECK_FAILED ${failed}, 429 ${limited}, other ${v.checks - ok - failed - limited} (${tally(v.answers)})`,
    ],
    [
      'victim: success rate, latency',
      `${(v.successRate * 100).toFixed(0)} %; p50 ${v.p50Ms.toFixed(0)} ms, p99 ${v.p99Ms.toFixed(0)} ms over all checks (200s only: p50 ${v.okP50Ms === undefined ? '-' : `${v.okP50Ms.toFixed(0)} ms`}); RateLimit-Remaining ${v.remaining ?? '-'}`,
    ],
    [`attackers: ${r.attackers.length} × 40 filtered ports, sequential`, `${sum(attackAnswers)} checks: ${tally(attackAnswers)}`],
    ["attackers' RateLimit-Remaining (last answer)", r.attackers.map((a) => `${a.identity} → ${a.target}: ${a.remaining ?? '-'} (${a.checks} checks)`).join('; ')],
    ['worker connect attempts (port_checker_probe_attempts_total)', `${sum(r.worker.attempts)} (${tally(r.worker.attempts)})`],
    ['worker probes finished (port_checker_probes_total)', `${sum(r.worker.probes)} (${tally(r.worker.probes)})`],
    [
      'jobs dropped unprobed (port_checker_jobs_dropped_total)',
      `${sum(r.worker.dropped)} (${tally(r.worker.dropped)})${r.worker.probesInFlightAtEnd > 0 ? `; ${r.worker.probesInFlightAtEnd} probes still in flight at the end` : ''}`,
    ],
  ];
  const header = `| attackers and a victim, ${(r.durationMs / 1000).toFixed(0)} s, Node ${process.version}, build of ${r.revision} | result |\n|---|---|\n`;
  return header + rows.map((row) => `| ${row.join(' | ')} |`).join('\n');
}
