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
}

const defaults = loadConfig({});
const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>('docker-compose.yml');
const dashboard = JSON.parse(readRepoFile('deploy/grafana/dashboards/port-checker.json')) as { uid: string; panels: Panel[] };
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

  it('has a dashboard whose panels all query that data source', () => {
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: datasources[0]!.uid });
      expect(panel.targets!.length, panel.title).toBeGreaterThan(0);
    }
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
