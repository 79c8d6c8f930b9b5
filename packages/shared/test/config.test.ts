import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig as loadAny } from '../src/config.js';
import { describeRedisTarget } from '../src/redis-connection.js';

// Every configuration names its Redis (none is assumed): these tests name one and vary the rest.
const loadConfig = (env: NodeJS.ProcessEnv) => loadAny({ REDIS_URL: 'redis://127.0.0.1:6379', ...env });

describe('loadConfig', () => {
  it('gives the documented defaults for an environment that names only its Redis', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      debug: false,
      allowLocalIps: false,
      queueName: 'port-checks',
      redis: { kind: 'url', url: 'redis://127.0.0.1:6379' },
      probe: { maxAttempts: 3, retryDelayMs: 1000, timeoutMs: 5000, retryRefused: false },
      maxPorts: 128,
      workerConcurrency: 256,
      eventsMaxLen: 1000,
      overload: { maxBacklog: 20_000, maxPortsInFlight: 4096, maxPortsPerRequest: 128 },
      http: { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5000 },
    });
    // Inside today's provider's 8 s per request.
    expect(config.deadlineMs).toBe(7000);
  });

  it('reads seconds as fractions and flags as words', () => {
    const config = loadConfig({
      PORT_CHECK_TIMEOUT: '0.25',
      PORT_CHECK_RETRY_DELAY: '0',
      PORT_CHECK_RETRIES: '2',
      PORT_CHECK_RETRY_REFUSED: 'yes',
      PORT_CHECKER_ALLOW_LOCAL_IPS: 'true',
      PORT_CHECK_DEADLINE: '1.5',
    });
    expect(config.probe).toEqual({ maxAttempts: 2, retryDelayMs: 0, timeoutMs: 250, retryRefused: true });
    expect(config.allowLocalIps).toBe(true);
    expect(config.deadlineMs).toBe(1500);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT_CHECKER_PORT: '', PORT_CHECK_RETRIES: '' })).toMatchObject({ port: 9000, probe: { maxAttempts: 3 } });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it.each([
    ['PORT_CHECKER_PORT', 'http'],
    ['PORT_CHECKER_PORT', '70000'],
    ['PORT_CHECK_RETRIES', '0'],
    ['PORT_CHECK_RETRIES', '1.5'],
    ['PORT_CHECK_TIMEOUT', '-1'],
    ['PORT_CHECKER_DEBUG', 'maybe'],
    ['REDIS_URL', 'http://localhost'],
    ['PORT_CHECKER_QUEUE', 'a:b'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('loadConfig: abuse protection', () => {
  it('is on by default where it costs a provider nothing', () => {
    expect(loadConfig({}).security).toEqual({
      apiToken: undefined,
      budgets: {
        windowSeconds: 60,
        clientPorts: 300,
        clientPortsPer56: 1200,
        clientPortsPer48: 4800,
        clientPortsInFlight: 128,
        clientPortsInFlightPer56: 512,
        clientPortsInFlightPer48: 2048,
        targetPorts: 1000,
        targetNetworkPorts: 4000,
      },
      selfCheckOnly: false,
      trustProxy: false,
      corsOrigins: [],
    });
  });

  it('turns a budget off with 0 and reads the window in whole seconds', () => {
    const { security } = loadConfig({
      PORT_CHECKER_RATE_LIMIT_PORTS: '0',
      PORT_CHECKER_TARGET_RATE_LIMIT_PORTS: '0',
      PORT_CHECKER_RATE_LIMIT_WINDOW: '1',
    });
    expect(security.budgets).toMatchObject({ clientPorts: 0, clientPortsPer56: 0, clientPortsPer48: 0, targetPorts: 0, windowSeconds: 1 });
  });

  it('sizes the IPv6 network budgets of clients from the per-client one unless they are set', () => {
    expect(loadConfig({ PORT_CHECKER_RATE_LIMIT_PORTS: '100' }).security.budgets).toMatchObject({ clientPortsPer56: 400, clientPortsPer48: 1600 });
    expect(loadConfig({ PORT_CHECKER_RATE_LIMIT_PORTS_IPV6_48: '50' }).security.budgets.clientPortsPer48).toBe(50);
  });

  it.each(['PORT_CHECKER_RATE_LIMIT_MAX', 'PORT_CHECKER_TARGET_RATE_LIMIT_MAX', 'PORT_CHECKER_MAX_IN_FLIGHT'])(
    'stops at %s, whose meaning changed, naming the variable that replaced it',
    (name) => {
      expect(() => loadConfig({ [name]: '60' })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: '60' })).toThrow(new RegExp(`${name} is now PORT_CHECKER_\\w+_PORTS`));
    },
  );

  it('refuses a cap on ports in flight below the ports one request may ask for', () => {
    expect(() => loadConfig({ PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '100' })).toThrow(/PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT \(100\) must be 0 or at least PORT_CHECK_MAX_PORTS \(128\)/);
    expect(loadConfig({ PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0' }).security.budgets.clientPortsInFlight).toBe(0);
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['0', 0],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['loopback, 10.0.0.0/8,fd00::/8', ['loopback', '10.0.0.0/8', 'fd00::/8']],
  ])('reads PORT_CHECKER_TRUST_PROXY=%s as a flag, a hop count or a list of proxies', (value, expected) => {
    expect(loadConfig({ PORT_CHECKER_TRUST_PROXY: value }).security.trustProxy).toEqual(expected);
  });

  it('reads PORT_CHECKER_CORS_ORIGINS as * or a list of origins', () => {
    expect(loadConfig({ PORT_CHECKER_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).security.corsOrigins)
      .toEqual(['https://a.example', 'http://localhost:3000']);
  });

  it('reads an IPv4-mapped PORT_CHECKER_DENY_CIDRS entry as the IPv4 subnet it names, and refuses one wider than the mapped space', () => {
    expect(loadConfig({ PORT_CHECKER_DENY_CIDRS: '::ffff:127.0.0.2/128, ::ffff:10.0.0.0/104' }).denyCidrs).toEqual(['127.0.0.2/32', '10.0.0.0/8']);
    expect(() => loadConfig({ PORT_CHECKER_DENY_CIDRS: '::ffff:0:0/95' })).toThrow(/::ffff:0:0\/95/);
  });

  it('reads PORT_CHECKER_DENY_CIDRS as a list of IPv4 and IPv6 subnets, none by default', () => {
    expect(loadConfig({}).denyCidrs).toEqual([]);
    expect(loadConfig({ PORT_CHECKER_DENY_CIDRS: '168.63.129.16/32, 2001:db8:64::/96,' }).denyCidrs).toEqual([
      '168.63.129.16/32',
      '2001:db8:64::/96',
    ]);
  });

  it('takes a Bearer token of 16 characters or more', () => {
    const token = 'c2VjcmV0LXRva2VuLTEyMw==';
    expect(loadConfig({ PORT_CHECKER_API_TOKEN: token }).security.apiToken).toBe(token);
  });

  it.each([
    ['PORT_CHECKER_API_TOKEN', 'short'],
    ['PORT_CHECKER_API_TOKEN', 'has spaces in it, sixteen+'],
    ['PORT_CHECKER_RATE_LIMIT_PORTS', '-1'],
    ['PORT_CHECKER_RATE_LIMIT_WINDOW', '0'],
    ['PORT_CHECKER_RATE_LIMIT_WINDOW', '1.5'],
    ['PORT_CHECKER_TARGET_RATE_LIMIT_PORTS', 'lots'],
    ['PORT_CHECKER_TARGET_NETWORK_RATE_LIMIT_PORTS', '1.5'],
    ['PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT', '-1'],
    ['PORT_CHECKER_SELF_CHECK_ONLY', 'maybe'],
    ['PORT_CHECKER_TRUST_PROXY', 'proxy.example.com'],
    ['PORT_CHECKER_TRUST_PROXY', '10.0.0.0/33'],
    ['PORT_CHECKER_TRUST_PROXY', '127.1'],
    ['PORT_CHECKER_CORS_ORIGINS', 'https://a.example/path'],
    ['PORT_CHECKER_CORS_ORIGINS', 'a.example'],
    ['PORT_CHECKER_DENY_CIDRS', '168.63.129.16'],
    ['PORT_CHECKER_DENY_CIDRS', '10.0.0.0/33'],
    ['PORT_CHECKER_DENY_CIDRS', 'metadata.internal/32'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('loadConfig: where Redis is', () => {
  const sentinels = { REDIS_SENTINELS: '127.0.0.1:26379, [::1]:26380,redis-sentinel', REDIS_SENTINEL_NAME: 'checks' };

  it('reads one Redis from REDIS_URL', () => {
    expect(loadAny({ REDIS_URL: 'rediss://:pw@redis:6380' }).redis).toEqual({ kind: 'url', url: 'rediss://:pw@redis:6380' });
  });

  it('reads a Sentinel-monitored master from REDIS_SENTINELS and REDIS_SENTINEL_NAME, its passwords and TLS', () => {
    expect(loadAny({ ...sentinels, REDIS_PASSWORD: 'a', REDIS_SENTINEL_PASSWORD: 'b', REDIS_TLS: 'true' }).redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
        { host: 'redis-sentinel', port: 26379 },
      ],
      name: 'checks',
      password: 'a',
      sentinelPassword: 'b',
      tls: true,
    });
  });

  it('reads a Cluster from REDIS_CLUSTER_NODES when the queue name is in braces', () => {
    expect(loadAny({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2', PORT_CHECKER_QUEUE: '{port-checks}' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
      ],
      tls: false,
    });
  });

  it('is described in the start-up log line without a password', () => {
    expect(describeRedisTarget(loadAny({ REDIS_URL: 'redis://:secret@redis:6380/2' }).redis)).toBe('redis://:***@redis:6380/2');
    expect(describeRedisTarget(loadAny({ ...sentinels, REDIS_PASSWORD: 'secret' }).redis)).toBe(
      'master "checks" of the sentinels 127.0.0.1:26379,[::1]:26380,redis-sentinel:26379',
    );
  });

  it('refuses a Cluster with a queue name out of braces, naming the fix', () => {
    expect(() => loadAny({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toThrow(/PORT_CHECKER_QUEUE=\{port-checks\}/);
    expect(() => loadAny({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', PORT_CHECKER_QUEUE: 'a{b}' })).toThrow(ConfigError);
  });

  it.each([
    [{}, /no Redis given: set one of REDIS_URL .*REDIS_SENTINELS with REDIS_SENTINEL_NAME .*REDIS_CLUSTER_NODES/],
    [{ REDIS_URL: 'redis://a', ...sentinels }, /REDIS_URL and REDIS_SENTINELS are both set/],
    [{ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'b:1', PORT_CHECKER_QUEUE: '{q}' }, /REDIS_URL and REDIS_CLUSTER_NODES are both set/],
    [{ REDIS_SENTINELS: 'a:1' }, /REDIS_SENTINELS needs REDIS_SENTINEL_NAME/],
    [{ REDIS_URL: 'redis://a', REDIS_PASSWORD: 'x' }, /REDIS_PASSWORD only go with .*put the password in the URL/],
    [{ REDIS_URL: 'redis://a', REDIS_SENTINEL_NAME: 'x' }, /REDIS_SENTINEL_NAME/],
    [{ REDIS_SENTINELS: 'a:70000', REDIS_SENTINEL_NAME: 'x' }, /REDIS_SENTINELS: "a:70000" is not a host:port/],
    [{ REDIS_SENTINELS: ' , ', REDIS_SENTINEL_NAME: 'x' }, /REDIS_SENTINELS: no address/],
  ])('refuses %o with a message that says what to set', (env, message) => {
    expect(() => loadAny(env)).toThrow(ConfigError);
    expect(() => loadAny(env)).toThrow(message);
  });
});

describe('loadConfig: vantages', () => {
  it('probes from one vantage, any worker, unless told otherwise; a worker belongs to none', () => {
    const config = loadConfig({});
    expect(config.vantages).toEqual({ count: 1, quorum: 1 });
    expect(config.vantage).toBeUndefined();
    expect(config.sourceAddress).toBeUndefined();
  });

  it.each([
    ['2', 2],
    ['3', 2],
    ['4', 3],
    ['5', 3],
  ])('asks a majority of PORT_CHECK_VANTAGES=%s by default (%i)', (count, quorum) => {
    expect(loadConfig({ PORT_CHECK_VANTAGES: count, PORT_CHECK_MAX_PORTS: '20' }).vantages).toEqual({ count: Number(count), quorum });
  });

  it('refuses a quorum above the vantages asked', () => {
    const fits = { PORT_CHECK_VANTAGES: '3', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0' };
    expect(() => loadConfig({ ...fits, PORT_CHECK_QUORUM: '4' })).toThrow(/PORT_CHECK_QUORUM \(4\) must be at most PORT_CHECK_VANTAGES \(3\)/);
    expect(loadConfig({ ...fits, PORT_CHECK_QUORUM: '3' }).vantages.quorum).toBe(3);
  });

  it('counts ports in flight per vantage: a cap of 128 cannot hold a 128-port check from 3 vantages', () => {
    expect(() => loadConfig({ PORT_CHECK_VANTAGES: '3' })).toThrow(
      /PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT \(128\) must be 0 or at least PORT_CHECK_MAX_PORTS \(128\) × PORT_CHECK_VANTAGES \(3\)/,
    );
    expect(loadConfig({ PORT_CHECK_VANTAGES: '3', PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '384' }).vantages.count).toBe(3);
  });

  it("reads a worker's vantage, its labels and its source address", () => {
    const config = loadConfig({
      PORT_CHECKER_VANTAGE: 'fra-1',
      PORT_CHECKER_VANTAGE_REGION: 'eu-central',
      PORT_CHECKER_VANTAGE_NETWORK: 'AS3320',
      PORT_CHECKER_SOURCE_ADDRESS: '2001:db8::7',
    });
    expect(config.vantage).toEqual({ id: 'fra-1', region: 'eu-central', network: 'AS3320' });
    expect(config.sourceAddress).toBe('2001:db8::7');
  });

  it.each([
    ['PORT_CHECKER_SOURCE_ADDRESS', 'example.com'],
    ['PORT_CHECKER_SOURCE_ADDRESS', '10.0.0.1/24'],
    ['PORT_CHECKER_VANTAGE', 'a:b'],
    ['PORT_CHECKER_VANTAGE', 'x'.repeat(33)],
    ['PORT_CHECK_VANTAGES', '0'],
    ['PORT_CHECK_VANTAGES', '10'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value, PORT_CHECKER_CLIENT_MAX_PORTS_IN_FLIGHT: '0' })).toThrow(name);
  });

  it('refuses labels without a vantage to label', () => {
    expect(() => loadConfig({ PORT_CHECKER_VANTAGE_REGION: 'eu' })).toThrow(/set PORT_CHECKER_VANTAGE too/);
  });
});
