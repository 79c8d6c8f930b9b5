import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@port-checker/shared';
import { readRepoFile, readYaml, repoPath } from '../support/repo.js';

// No Docker engine runs here: the compose file is checked by reading it.
interface Service {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  env_file?: { path: string; required: boolean };
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  stop_grace_period?: string;
  container_name?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  mem_limit?: string;
  logging?: { driver: string; options: Record<string, string> };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = readYaml<Compose>('docker-compose.yml');
const { redis, api, worker, prometheus, grafana } = compose.services;
const defaults = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'];

/** Compose's interpolation of ${NAME-default} (unset takes the default) and ${NAME:-default} (unset or empty). */
function interpolated(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(:?)-([^}]*)\}/g, (_, name: string, colon: string, fallback: string) =>
    env[name] === undefined || (colon && env[name] === '') ? fallback : env[name]!,
  );
}

/** Seconds in compose's duration format ("35s", "1m30s"). */
function seconds(duration: string): number {
  let total = 0;
  for (const [, value, unit] of duration.matchAll(/(\d+)(h|m|s)/g)) total += Number(value) * { h: 3600, m: 60, s: 1 }[unit!]!;
  return total;
}

describe('docker-compose.yml', () => {
  it('runs redis, api and worker by default, prometheus and grafana in the monitoring profile, a replica and three sentinels in the sentinel profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api', 'grafana', 'prometheus', 'redis', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'worker',
    ]);
    for (const service of [redis, api, worker]) expect(service!.profiles).toBeUndefined();
    for (const service of [prometheus, grafana]) expect(service!.profiles).toEqual(['monitoring']);
    for (const name of ['redis-replica', ...sentinels]) expect(compose.services[name]!.profiles, name).toEqual(['sentinel']);
  });

  it('names every image by an exact version, never a floating tag; the apps by the release', () => {
    for (const [name, service] of Object.entries(compose.services)) expect(service.image, name).toMatch(/:v?\d+\.\d+\.\d+(-[a-z]+)?$/);
    for (const name of ['api', 'worker']) {
      const { version } = JSON.parse(readRepoFile(`apps/${name}/package.json`)) as { version: string };
      expect(compose.services[name]!.image).toBe(`golem-port-checker-${name}:${version}`);
    }
  });

  it('keeps Redis on a named volume, without eviction, with a healthcheck', () => {
    expect(redis!.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes']));
    const [volume, target] = redis!.volumes![0]!.split(':');
    expect(target).toBe('/data');
    expect(compose.volumes).toHaveProperty(volume!);
    expect(redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('publishes no Redis port: only the API and the workers reach it, inside the compose network', () => {
    expect(redis!.ports).toBeUndefined();
  });

  it.each(['redis', 'api', 'worker', 'prometheus', 'grafana', 'redis-replica', ...sentinels])(
    'runs %s without capabilities or privilege escalation, memory bounded, logs rotated',
    (name) => {
      const service = compose.services[name]!;
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service.mem_limit).toMatch(/^\d+[mg]$/);
      expect(service.logging).toEqual({ driver: 'json-file', options: { 'max-size': expect.stringMatching(/^\d+m$/), 'max-file': expect.stringMatching(/^\d+$/) } });
      if (name !== 'grafana') expect(service.read_only, 'read_only').toBe(true);
    },
  );

  it('runs Redis as its own user, so that its entrypoint needs no capability to switch, and bounds it below its memory limit', () => {
    expect(redis!.user).toBe('redis');
    const maxmemory = redis!.command![redis!.command!.indexOf('--maxmemory') + 1]!;
    expect(parseInt(maxmemory, 10)).toBeLessThan(parseInt(redis!.mem_limit!, 10) * 1024);
  });

  it.each(['api', 'worker'])('builds %s from its Dockerfile stage and points it at the redis service, settings from .env', (name) => {
    const service = compose.services[name]!;
    expect(service.build).toEqual({ context: '.', target: name });
    expect(readRepoFile('Dockerfile')).toMatch(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
    expect(interpolated(service.environment!.REDIS_URL!, {})).toBe('redis://redis:6379');
    expect(service.env_file).toEqual({ path: '.env', required: false });
    expect(service.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it.each(['api', 'worker'])('gives %s time to drain on stop: longer than a check can take', (name) => {
    expect(seconds(compose.services[name]!.stop_grace_period!)).toBeGreaterThan(defaults.deadlineMs / 1000 + 5);
  });

  it('publishes the API on port 9000 only, its metrics inside the compose network, and checks its health on /ready', () => {
    expect(api!.ports).toEqual([`\${API_PUBLISH:-${defaults.port}}:${defaults.port}`]);
    expect(api!.expose).toEqual([String(defaults.admin.apiPort)]);
    expect(api!.environment!.PORT_CHECKER_ADMIN_HOST).toBe('0.0.0.0');
    expect(api!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${defaults.port}/ready`);
  });

  it('publishes the API on every interface by default, on loopback alone with API_PUBLISH=127.0.0.1:9000 behind a proxy', () => {
    // Compose's interpolation of ${NAME:-default}: unset or empty takes the default.
    const published = (env: Record<string, string>): string =>
      api!.ports![0]!.replace(/\$\{(\w+):-([^}]*)\}/g, (_, name: string, fallback: string) => env[name] || fallback);
    // No host address: Docker publishes on every IPv4 and IPv6 address, as before the variable.
    expect(published({})).toBe(`${defaults.port}:${defaults.port}`);
    expect(published({ API_PUBLISH: '127.0.0.1:9000' })).toBe(`127.0.0.1:9000:${defaults.port}`);
    // The comment above the ports says when: behind a reverse proxy on this host.
    const text = readRepoFile('docker-compose.yml');
    const comment = text.slice(text.lastIndexOf('\n\n', text.indexOf('  api:')), text.indexOf('"${API_PUBLISH'));
    expect(comment).toMatch(/#.*reverse proxy[^]*API_PUBLISH=127\.0\.0\.1:9000/);
  });

  it('lets workers scale: no published port or fixed name; metrics exposed on the configured port', () => {
    expect(worker!.ports).toBeUndefined();
    expect(worker!.container_name).toBeUndefined();
    expect(worker!.expose).toEqual([String(defaults.admin.workerPort)]);
    expect(worker!.environment!.PORT_CHECKER_ADMIN_HOST).toBe('0.0.0.0');
    expect(worker!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${defaults.admin.workerPort}/metrics`);
  });

  it('mounts files that exist, and publishes monitoring on loopback only', () => {
    for (const service of [prometheus!, grafana!]) {
      for (const mount of service.volumes!.filter((v) => v.startsWith('./'))) {
        expect(existsSync(repoPath(mount.split(':')[0]!)), mount).toBe(true);
      }
      for (const port of service.ports!) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('in the sentinel profile: a replica of redis kept like it, three sentinels monitoring redis by name with quorum 2', () => {
    const replica = compose.services['redis-replica']!;
    expect(replica.image).toBe(redis!.image);
    expect(replica.command).toEqual(expect.arrayContaining(['--replicaof', 'redis', '6379', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes']));
    expect(replica.command![replica.command!.indexOf('--maxmemory') + 1]).toBe(redis!.command![redis!.command!.indexOf('--maxmemory') + 1]);
    expect(compose.volumes).toHaveProperty(replica.volumes![0]!.split(':')[0]!);
    expect(replica.ports).toBeUndefined();
    // Each server known by its service name, which outlives a container's address.
    expect(redis!.command).toEqual(expect.arrayContaining(['--replica-announce-ip', 'redis']));
    expect(replica.command).toEqual(expect.arrayContaining(['--replica-announce-ip', 'redis-replica']));
    for (const name of sentinels) {
      const sentinel = compose.services[name]!;
      const script = sentinel.command!.join(' ');
      expect(script).toContain("'sentinel monitor port-checker redis 6379 2'");
      expect(script).toContain("'sentinel resolve-hostnames yes' 'sentinel announce-hostnames yes'");
      expect(script).toMatch(/exec redis-server \/tmp\/sentinel\.conf --sentinel$/);
      expect(sentinel.ports).toBeUndefined();
      expect(sentinel.healthcheck!.test).toEqual(['CMD', 'redis-cli', '-p', '26379', 'ping']);
    }
  });

  it("lets .env hand the apps to the sentinels: COMPOSE_REDIS_URL= empties REDIS_URL, and the sentinels' addresses make a valid configuration", () => {
    const text = readRepoFile('docker-compose.yml');
    const env = {
      REDIS_SENTINELS: /REDIS_SENTINELS=(\S+)/.exec(text)![1]!,
      REDIS_SENTINEL_NAME: /REDIS_SENTINEL_NAME=(\S+)/.exec(text)![1]!,
    };
    const url = interpolated(api!.environment!.REDIS_URL!, { COMPOSE_REDIS_URL: '' });
    expect(url).toBe('');
    expect(loadConfig({ REDIS_URL: url, ...env }).redis).toEqual({
      kind: 'sentinel',
      name: 'port-checker',
      sentinels: sentinels.map((host) => ({ host, port: 26379 })),
      tls: false,
    });
  });
});
