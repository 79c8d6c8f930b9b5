import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { scrapeNames } from '../support/metrics.js';
import { readRepoFile, readYaml } from '../support/repo.js';
import { startService, type Service } from '../support/service.js';

interface Prometheus {
  scrape_configs: Array<{
    job_name: string;
    static_configs?: Array<{ targets: string[] }>;
    dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
  }>;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string }>;
  fieldConfig?: { defaults?: { thresholds?: { steps: Array<{ color: string; value: number | null }> } } };
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}

const defaults = loadConfig({});
const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>('docker-compose.yml');
const dashboard = JSON.parse(readRepoFile('deploy/grafana/dashboards/port-checker.json')) as {
  uid: string;
  id: number | null;
  panels: Panel[];
  templating: { list: Variable[] };
};
const queries = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);

describe('the Prometheus scrape config', () => {
  const { scrape_configs: jobs } = readYaml<Prometheus>('deploy/prometheus/prometheus.yml');

  it('scrapes the API at its compose service name and admin port', () => {
    const job = jobs.find((j) => j.job_name === 'port-checker-api')!;
    expect(job.static_configs).toEqual([{ targets: [`api:${defaults.admin.apiPort}`] }]);
  });

  it('finds every worker replica through Docker DNS, on the metrics port', () => {
    const job = jobs.find((j) => j.job_name === 'port-checker-worker')!;
    expect(job.dns_sd_configs).toEqual([{ names: ['worker'], type: 'A', port: defaults.admin.workerPort, refresh_interval: '15s' }]);
  });
});

describe('Grafana, as compose provisions it', () => {
  const datasources = readYaml<{ datasources: Array<{ uid: string; url: string }> }>(
    'deploy/grafana/provisioning/datasources/prometheus.yml',
  ).datasources;
  const providers = readYaml<{ providers: Array<{ options: { path: string } }> }>(
    'deploy/grafana/provisioning/dashboards/port-checker.yml',
  ).providers;

  it('reads Prometheus, and the dashboards from where compose mounts them', () => {
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(compose.services.grafana!.volumes).toContain(`./deploy/grafana/dashboards:${providers[0]!.options.path}:ro`);
  });

  it('has a dashboard whose panels all query the Prometheus picked in its datasource variable', () => {
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets!.length, panel.title).toBeGreaterThan(0);
    }
  });
});

describe('the dashboard, imported into an existing Grafana', () => {
  const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));

  it('has no fixed id and picks data source, job and instance in template variables', () => {
    expect(dashboard.id).toBeNull();
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.get('job')).toMatchObject({ type: 'query', query: { query: expect.stringContaining('label_values(') } });
    expect(variables.get('instance')).toMatchObject({ type: 'query', query: { query: expect.stringContaining('job=~"$job"') } });
  });

  it('narrows every query of the service to the chosen job and instance', () => {
    for (const query of queries) {
      for (const selector of query.match(/\b(?:port_checker|process|nodejs)_\w+(\{[^}]*\})?/g) ?? []) {
        expect(selector, query).toContain('instance=~"$instance"');
        expect(selector, query).toContain('job=~"$job"');
      }
    }
  });

  it.each([
    ['Workers connected', [['red', null], ['green', 1]]],
    ['Redis up (as the API sees it)', [['red', null], ['green', 1]]],
    ['Failed checks (5xx)', [['green', null], ['orange', 0.01], ['red', 0.05]]],
    ['Check duration p95', [['green', null], ['orange', 10], ['red', 20]]],
    ['Queue: waiting jobs', [['green', null], ['orange', 100], ['red', 1000]]],
  ])('colours "%s" by thresholds where a value means trouble', (title, steps) => {
    const panel = dashboard.panels.find((p) => p.title === title)!;
    expect(panel.fieldConfig!.defaults!.thresholds!.steps.map(({ color, value }) => [color, value])).toEqual(steps);
  });
});

describe('the dashboard against the metrics the service really exposes', () => {
  let service: Service;
  let exposed: Set<string>;
  beforeAll(async () => {
    service = await startService({ workers: 0 });
    const worker = await service.startWorkerService();
    exposed = new Set([...(await scrapeNames(service.api.metricsUrl)), ...(await scrapeNames(worker.metricsUrl))]);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('queries no metric that the API or a worker does not expose', () => {
    const used = new Set(queries.flatMap((query) => query.match(/\b(?:port_checker|process|nodejs)_\w+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('shows every metric of the service’s own', () => {
    const own = [...exposed].filter((name) => name.startsWith('port_checker_')).map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    const missing = own.filter((name) => !queries.some((query) => query.includes(name)));
    expect(missing).toEqual([]);
  });
});
