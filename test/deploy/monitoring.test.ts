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
  includeAll?: boolean;
  allValue?: string;
}

const defaults = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>('docker-compose.yml');
const dashboard = JSON.parse(readRepoFile('deploy/grafana/dashboards/port-checker.json')) as {
  uid: string;
  id: number | null;
  panels: Panel[];
  templating: { list: Variable[] };
};
const queries = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
const variableQuery = (variable: Variable): string => (typeof variable.query === 'string' ? variable.query : variable.query.query);

/** Every value under `key` anywhere in the dashboard, with the path to it. */
function findKey(node: unknown, key: string, path = ''): Array<[string, unknown]> {
  if (Array.isArray(node)) return node.flatMap((item, i) => findKey(item, key, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => [...(k === key ? [[`${path}.${k}`, v] as [string, unknown]] : []), ...findKey(v, key, `${path}.${k}`)]);
}
/** The template variables a text refers to: $name, ${name}, ${name:format} or [[name]]; Grafana's own $__… aside. */
const variablesIn = (text: string): string[] =>
  [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)].map(([, a, b, c]) => (a ?? b ?? c)!).filter((name) => !name.startsWith('__'));
/** The values of a query's job matchers, `job=…`, `job=~…`, `job!=…` or `job!~…`. */
const jobMatchers = (query: string): string[] => [...query.matchAll(/\bjob\s*[=!]~?\s*"([^"]*)"/g)].map(([, value]) => value!);

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

  it('names no data source but that variable, in any panel, target or variable', () => {
    const datasources = findKey(dashboard, 'datasource');
    expect(datasources.length).toBeGreaterThan(queries.length);
    for (const [path, datasource] of datasources) expect(datasource, path).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });
});

describe('the dashboard, imported into an existing Grafana', () => {
  it('has no fixed id and picks data source, jobs and instance in template variables', () => {
    expect(dashboard.id).toBeNull();
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['api_job', 'worker_job']) {
      // All: every job found, as a regex of them (an allValue such as .+ would take in other jobs too).
      expect(variables.get(name), name).toMatchObject({ type: 'query', includeAll: true, query: { query: expect.stringMatching(/^label_values\(\w+, job\)$/) } });
      expect(variables.get(name)!.allValue, name).toBeUndefined();
    }
    expect(variables.get('instance')).toMatchObject({ type: 'query', query: { query: expect.stringContaining('job=~"$api_job|$worker_job"') } });
  });

  it('names no job but through a variable: no job="…" in any query', () => {
    const all = [...queries, ...dashboard.templating.list.filter((variable) => variable.type === 'query').map(variableQuery)];
    const matchers = all.flatMap(jobMatchers);
    expect(matchers.length).toBeGreaterThan(queries.length);
    for (const value of matchers) expect(value.replace(/\$\{?\w+\}?/g, '').replace(/\|/g, ''), value).toBe('');
  });

  it('defines every variable it refers to, before any variable that uses it, and uses every one it defines', () => {
    const used = new Set(variablesIn(JSON.stringify(dashboard)));
    expect([...used].filter((name) => !variables.has(name))).toEqual([]);
    expect([...variables.keys()].filter((name) => !used.has(name))).toEqual([]);
    const defined: string[] = [];
    for (const variable of dashboard.templating.list) {
      expect(variablesIn(JSON.stringify(variable)).filter((name) => !defined.includes(name)), variable.name).toEqual([]);
      defined.push(variable.name);
    }
  });

  it('narrows every query of the service, and its scrape targets, to a chosen job and instance', () => {
    for (const query of queries) {
      for (const selector of query.match(/\b(?:(?:port_checker|process|nodejs)_\w+|up)(\{[^}]*\})?/g) ?? []) {
        expect(selector, query).toContain('instance=~"$instance"');
        expect(selector, query).toMatch(/job=~"\$(api|worker)_job(\|\$worker_job)?"/);
      }
    }
  });

  it.each([
    ['Workers connected', [['red', null], ['green', 1]]],
    ['Redis up and writable (as the API sees it)', [['red', null], ['green', 1]]],
    ['Failed checks (5xx)', [['green', null], ['orange', 0.01], ['red', 0.05]]],
    ['Check duration p95', [['green', null], ['orange', 6], ['red', 6.5]]],
    ['Checks answered after 6.5 s', [['green', null], ['orange', 0.01], ['red', 0.05]]],
    ['Queue: waiting jobs', [['green', null], ['orange', 100], ['red', 1000]]],
  ])('colours "%s" by thresholds where a value means trouble', (title, steps) => {
    const panel = dashboard.panels.find((p) => p.title === title)!;
    expect(panel.fieldConfig!.defaults!.thresholds!.steps.map(({ color, value }) => [color, value])).toEqual(steps);
  });
});

describe('the dashboard against the metrics the service really exposes', () => {
  let service: Service;
  let api: Set<string>;
  let worker: Set<string>;
  let exposed: Set<string>;
  beforeAll(async () => {
    service = await startService({ workers: 0 });
    const workerService = await service.startWorkerService();
    api = await scrapeNames(service.api.metricsUrl);
    worker = await scrapeNames(workerService.metricsUrl);
    exposed = new Set([...api, ...worker]);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('queries no metric that the API or a worker does not expose', () => {
    const used = new Set(queries.flatMap((query) => query.match(/\b(?:port_checker|process|nodejs)_\w+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('finds the API jobs by a metric only the API exposes, and the worker jobs by one only a worker exposes', () => {
    const metricOf = (name: string): string => /^label_values\((\w+), job\)$/.exec(variableQuery(variables.get(name)!))![1]!;
    expect([api.has(metricOf('api_job')), worker.has(metricOf('api_job'))]).toEqual([true, false]);
    expect([api.has(metricOf('worker_job')), worker.has(metricOf('worker_job'))]).toEqual([false, true]);
  });

  it("selects each metric in the jobs of the processes that expose it: the API's, the workers' or both", () => {
    for (const query of queries) {
      for (const [selector, name] of query.matchAll(/\b((?:port_checker|process|nodejs)_\w+)\{[^}]*\}/g)) {
        const jobs = [...(api.has(name!) ? ['$api_job'] : []), ...(worker.has(name!) ? ['$worker_job'] : [])].join('|');
        expect(jobMatchers(selector), selector).toEqual([jobs]);
      }
      for (const [selector] of query.matchAll(/\bup\{[^}]*\}/g)) expect(jobMatchers(selector), selector).toEqual(['$worker_job']);
    }
  });

  it('shows every metric of the service’s own', () => {
    const own = [...exposed].filter((name) => name.startsWith('port_checker_')).map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    const missing = own.filter((name) => !queries.some((query) => query.includes(name)));
    expect(missing).toEqual([]);
  });
});
