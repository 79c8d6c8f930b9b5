import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      debug: false,
      allowLocalIps: false,
      queueName: 'port-checks',
      redisUrl: 'redis://127.0.0.1:6379',
      probe: { retries: 3, retryDelayMs: 1000, timeoutMs: 5000, retryRefused: false },
      maxPorts: 128,
      workerConcurrency: 256,
      eventsMaxLen: 200_000,
      overload: { maxBacklog: 20_000, maxInFlight: 1000 },
      http: { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5000 },
    });
    // RETRIES × (TIMEOUT + DELAY) + 5 s: inside the provider client's 30 s.
    expect(config.deadlineMs).toBe(23_000);
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
    expect(config.probe).toEqual({ retries: 2, retryDelayMs: 0, timeoutMs: 250, retryRefused: true });
    expect(config.allowLocalIps).toBe(true);
    expect(config.deadlineMs).toBe(1500);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT_CHECKER_PORT: '', PORT_CHECK_RETRIES: '' })).toMatchObject({ port: 9000, probe: { retries: 3 } });
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
