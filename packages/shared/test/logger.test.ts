import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/log-capture.js';

describe('createLogger', () => {
  it('writes JSON lines with the level, the name and child bindings', () => {
    const { logger, lines } = captureLogs('port-checker-test');
    logger.child({ jobId: 'j1' }).info({ state: 'open' }, 'probe finished');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, name: 'port-checker-test', jobId: 'j1', state: 'open', msg: 'probe finished' }),
    ]);
  });

  it('never writes secrets: authorization headers, cookies, tokens, Redis URLs and passwords', () => {
    const { logger, lines } = captureLogs('test');
    logger.info({
      req: { headers: { authorization: 'Bearer s3cret', cookie: 'session=s3cret' } },
      headers: { authorization: 'Bearer s3cret' },
      token: 's3cret',
      api: { token: 's3cret' },
      redisUrl: 'redis://:s3cret@redis:6379',
      config: { redisUrl: 'redis://:s3cret@redis:6379' },
      password: 's3cret',
      redis: { password: 's3cret' },
    });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(lines[0]).toMatchObject({ token: '[redacted]', config: { redisUrl: '[redacted]' } });
  });
});
