import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYaml, repoPath } from '../support/repo.js';

// promtool comes with Debian's prometheus package; .ci/run installs it when missing.
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// Skipped tests name the reason in their title, which the report shows.
const needsPromtool = hasPromtool ? '' : ' (SKIPPED: promtool is not installed; apt-get install prometheus)';

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: repoPath(''), encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

interface Rules {
  groups: Array<{ rules: Array<{ alert: string }> }>;
}
interface RuleTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}
const alerts = readYaml<Rules>('deploy/prometheus/alerts.yml').groups.flatMap((group) => group.rules.map((rule) => rule.alert));
const ruleTests = readYaml<RuleTests>('deploy/prometheus/alerts.test.yml').tests.flatMap((test) => test.alert_rule_test);

describe('deploy/prometheus/alerts.yml', () => {
  it('has the alerts a queue-backed service needs', () => {
    expect(alerts.sort()).toEqual([
      'PortCheckerBacklogGrowing',
      'PortCheckerChecksFailing',
      'PortCheckerNoWorkers',
      'PortCheckerProbesDroppedForDeadline',
      'PortCheckerRedisDown',
      'PortCheckerServerErrors',
      'PortCheckerSlowChecks',
      'PortCheckerTargetDown',
    ]);
  });

  it('has a unit test where each alert fires and one where it stays quiet', () => {
    for (const alert of alerts) {
      const cases = ruleTests.filter((test) => test.alertname === alert);
      expect(cases.some((test) => test.exp_alerts.length > 0), `${alert} fires`).toBe(true);
      expect(cases.some((test) => test.exp_alerts.length === 0), `${alert} stays quiet`).toBe(true);
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
    const rules = promtool('check', 'rules', 'deploy/prometheus/alerts.yml');
    expect(rules.status, rules.output).toBe(0);
    const config = promtool('check', 'config', 'deploy/prometheus/prometheus.yml');
    expect(config.status, config.output).toBe(0);
    expect(config.output).toContain('SUCCESS: 1 rule files found');
  });

  it.skipIf(!hasPromtool)(`passes its unit tests, promtool test rules${needsPromtool}`, () => {
    const run = promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml');
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });
});
