import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/log-capture.js';
import { loadConfig } from '../src/config.js';

// What createLogger (../src/logger.ts) does to keep secrets out of the logs: the redact paths it
// configures. logger.test.ts covers the Authorization header and tokens; this file the rest: the
// Redis URL (it may carry a password), passwords, the API token and cookies, in the shapes this
// code has them. No line of the apps carries them today (test/e2e/log-secrets.e2e.test.ts runs
// both apps with a Redis password and an API token and reads every line): these paths are what
// catches the line that one day logs a config or a connection's options.
const PASSWORD = 'redis-pw-5f1c9a';
const TOKEN = 'api-token-0d4e8b27c6';
const REDIS_URL = `redis://:${PASSWORD}@redis:6379`;

function logged(fields: Record<string, unknown>): string {
  const { logger, lines } = captureLogs('test');
  logger.info(fields, 'line');
  expect(lines).toHaveLength(1);
  return JSON.stringify(lines[0]);
}

describe('createLogger keeps secrets out of its lines', () => {
  it('writes a whole Config, at the top or under a key, without the Redis URL or the API token', () => {
    // The frozen object loadConfig returns, with its real field names and nesting.
    const config = loadConfig({ REDIS_URL, PORT_CHECKER_API_TOKEN: TOKEN });

    for (const fields of [config as unknown as Record<string, unknown>, { config }]) {
      const line = logged(fields);
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(TOKEN);
      // Redacted, not dropped: the reader sees that there was one.
      expect(JSON.parse(line)).toMatchObject(
        'config' in fields
          ? { config: { redis: { url: '[redacted]' }, security: { apiToken: '[redacted]' } } }
          : { redis: { url: '[redacted]' }, security: { apiToken: '[redacted]' } },
      );
      // Everything else is still there.
      expect(line).toContain(`"queueName":"${config.queueName}"`);
    }
    // The config itself is left as it was.
    expect(config.redis).toEqual({ kind: 'url', url: REDIS_URL });
    expect(config.security.apiToken).toBe(TOKEN);
  });

  it.each([
    ['a Redis URL', { redisUrl: REDIS_URL }, { redisUrl: '[redacted]' }],
    ['a password', { password: PASSWORD }, { password: '[redacted]' }],
    ['a password one level down (Redis options)', { redis: { password: PASSWORD, port: 6379 } }, { redis: { password: '[redacted]', port: 6379 } }],
    ['the API token', { apiToken: TOKEN }, { apiToken: '[redacted]' }],
    ['a Cookie header', { req: { headers: { cookie: `session=${TOKEN}`, host: 'x' } } }, { req: { headers: { cookie: '[redacted]', host: 'x' } } }],
  ])('redacts %s', (_name, fields, expected) => {
    const line = logged(fields);
    expect(line).not.toContain(PASSWORD);
    expect(line).not.toContain(TOKEN);
    expect(JSON.parse(line)).toMatchObject(expected);
  });
});
