import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DURATION_BUCKETS, loadConfig, type Logger } from '@port-checker/shared';
import { createApiMetrics } from '../../apps/api/src/observe/metrics.js';
import type { ProbeQueue } from '../../apps/api/src/queue/probe-queue.js';
import type { CheckSummary } from '../../apps/api/src/observe/request-record.js';
import { parseMetrics } from '../support/metrics.js';
import { readYaml, repoPath } from '../support/repo.js';

// promtool comes with Debian's prometheus package; .ci/run installs it when missing.
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// Skipped tests name the reason in their title, which the report shows.
const needsPromtool = hasPromtool ? '' : ' (SKIPPED: promtool is not installed; apt-get install prometheus)';

function promtool(args: string[], cwd = repoPath('')): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Rules {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts: unknown[];
}
interface RuleTest {
  name: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test?: AlertCase[];
  promql_expr_test?: unknown[];
}
interface RuleTests {
  rule_files: string[];
  tests: RuleTest[];
}
const rules = readYaml<Rules>('deploy/prometheus/alerts.yml');
const ruleTests = readYaml<RuleTests>('deploy/prometheus/alerts.test.yml');
const alerts = rules.groups.flatMap((group) => group.rules);
const alertNames = alerts.map((rule) => rule.alert);
const cases = ruleTests.tests.flatMap((test) => test.alert_rule_test ?? []);

/**
 * Runs alerts.test.yml's cases of one alert for which `keep` holds, against alerts.yml with that
 * alert's expression replaced (or not), in a directory of their own.
 */
function runCases(alert: string, keep: (test: AlertCase) => boolean, expr?: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
  try {
    const mutated = {
      ...rules,
      groups: rules.groups.map((group) => ({
        ...group,
        rules: group.rules.map((rule) => (rule.alert === alert && expr !== undefined ? { ...rule, expr } : rule)),
      })),
    };
    const tests = ruleTests.tests
      .map(({ promql_expr_test: _, ...test }) => ({ ...test, alert_rule_test: (test.alert_rule_test ?? []).filter((c) => c.alertname === alert && keep(c)) }))
      .filter((test) => test.alert_rule_test.length > 0);
    writeFileSync(join(dir, 'alerts.yml'), stringify(mutated));
    writeFileSync(join(dir, 'alerts.test.yml'), stringify({ ...ruleTests, rule_files: ['alerts.yml'], tests }));
    return promtool(['test', 'rules', 'alerts.test.yml'], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const fires = (test: AlertCase): boolean => test.exp_alerts.length > 0;
const staysQuiet = (test: AlertCase): boolean => test.exp_alerts.length === 0;

describe('deploy/prometheus/alerts.yml', () => {
  it('gives every alert a severity, a summary and a description', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const rule of alerts) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('has unit tests of its own alerts only: a case for a renamed one would stay quiet and pass', () => {
    expect(new Set(alertNames).size).toBe(alertNames.length);
    expect(cases.map((test) => test.alertname).filter((name) => !alertNames.includes(name))).toEqual([]);
  });

  it('has a unit test where each alert fires and one where it stays quiet', () => {
    for (const alert of alertNames) {
      const mine = cases.filter((test) => test.alertname === alert);
      expect(mine.some(fires), `${alert} fires`).toBe(true);
      expect(mine.some(staysQuiet), `${alert} stays quiet`).toBe(true);
    }
  });

  it('is loaded by the Prometheus of compose', () => {
    const config = readYaml<{ rule_files: string[] }>('deploy/prometheus/prometheus.yml');
    const compose = readYaml<{ services: { prometheus: { volumes: string[] } } }>('docker-compose.yml');
    const mounted = new Map(compose.services.prometheus.volumes.map((volume) => volume.split(':') as [string, string]));
    const configDir = dirname(mounted.get('./deploy/prometheus/prometheus.yml')!);
    expect(config.rule_files.map((file) => join(configDir, file))).toEqual([mounted.get('./deploy/prometheus/alerts.yml')]);
  });

  it.skipIf(!hasPromtool)(`passes promtool check rules and check config${needsPromtool}`, () => {
    const rules = promtool(['check', 'rules', 'deploy/prometheus/alerts.yml']);
    expect(rules.status, rules.output).toBe(0);
    const config = promtool(['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(config.status, config.output).toBe(0);
    expect(config.output).toContain('SUCCESS: 1 rule files found');
  });

  it.skipIf(!hasPromtool)(`passes its unit tests, promtool test rules${needsPromtool}`, () => {
    const run = promtool(['test', 'rules', 'deploy/prometheus/alerts.test.yml']);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  // The unit tests catch a broken alert: each one's firing cases fail if its expression never
  // holds, and its quiet cases fail if it always holds (a quiet case that only waits out `for:`
  // would not).
  it.skipIf(!hasPromtool).each(alertNames)(`%s: its unit tests fail when it never fires, and when it always fires${needsPromtool}`, (alert) => {
    const firing = runCases(alert, fires);
    expect(firing.status, firing.output).toBe(0);
    expect(runCases(alert, fires, 'vector(1) < 0').status, 'firing cases, expression that never holds').not.toBe(0);
    const quiet = runCases(alert, staysQuiet);
    expect(quiet.status, quiet.output).toBe(0);
    expect(runCases(alert, staysQuiet, 'vector(1)').status, 'quiet cases, expression that always holds').not.toBe(0);
  });
});

describe('the check-duration buckets that the alerts and their tests name', () => {
  // The histogram as the API exposes it, after one check.
  const metrics = createApiMetrics({} as ProbeQueue, { debug: () => undefined } as unknown as Logger);
  const check = { target: '127.0.0.1', ports: 1 } satisfies CheckSummary;
  metrics.observe({ route: '/check-ports', method: 'POST', status: '200', seconds: 5.02, kind: 'ports', outcome: 'ok', check });
  const exposedBuckets = async (): Promise<string[]> =>
    parseMetrics(await metrics.registry.getSingleMetricAsString('port_checker_check_duration_seconds'))
      .filter((sample) => sample.name === 'port_checker_check_duration_seconds_bucket')
      .map((sample) => sample.labels.le!);
  const ruleBuckets = alerts.flatMap((rule) => [...rule.expr.matchAll(/\ble="([^"]*)"/g)].map(([, le]) => le!));

  it('are DURATION_BUCKETS, as the API exposes them', async () => {
    expect(await exposedBuckets()).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
  });

  it("in alerts.yml's expressions, are exposed, and no whole numbers (Prometheus 3 stores le='7' as '7.0')", async () => {
    const exposed = await exposedBuckets();
    expect(ruleBuckets.length).toBeGreaterThan(0);
    for (const le of ruleBuckets) {
      expect(exposed, le).toContain(le);
      expect(le).not.toMatch(/^\d+$/);
    }
  });

  it('make the slow-checks alert count checks slower than the last bucket below the default deadline', () => {
    const deadline = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).deadlineMs / 1000;
    const below = Math.max(...DURATION_BUCKETS.filter((bucket) => bucket < deadline));
    expect(alerts.find((rule) => rule.alert === 'PortCheckerSlowChecks')!.expr).toContain(`port_checker_check_duration_seconds_bucket{le="${below}"}`);
  });

  it("in alerts.test.yml's input series, are every one the API exposes, in every histogram", async () => {
    const exposed = await exposedBuckets();
    const histograms = new Map<string, string[]>();
    for (const test of ruleTests.tests) {
      for (const { series } of test.input_series) {
        if (!series.startsWith('port_checker_check_duration_seconds_bucket{')) continue;
        const le = /\ble="([^"]*)"/.exec(series)?.[1];
        expect(le, series).toBeDefined();
        const key = `${test.name}: ${series.replace(/,?\s*\ble="[^"]*"/, '')}`;
        histograms.set(key, [...(histograms.get(key) ?? []), le!]);
      }
    }
    expect(histograms.size).toBeGreaterThan(0);
    for (const [key, buckets] of histograms) expect(buckets, key).toEqual(exposed);
  });
});
