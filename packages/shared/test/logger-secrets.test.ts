import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/log-capture.js';

describe('createLogger', () => {
  it('keeps the bindings of child loggers, such as a job id, on every line', () => {
    const { logger, lines } = captureLogs('port-checker-test');
    logger.child({ jobId: 'j1' }).info({ state: 'open' }, 'probe finished');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, name: 'port-checker-test', jobId: 'j1', state: 'open', msg: 'probe finished' }),
    ]);
  });

  it('never writes a Redis URL or a password, at the top or one level down', () => {
    const { logger, lines } = captureLogs('test');
    logger.info({
      redisUrl: 'redis://:s3cret@redis:6379',
      config: { redisUrl: 'redis://:s3cret@redis:6379' },
      password: 's3cret',
      redis: { password: 's3cret' },
    });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(lines[0]).toMatchObject({ redisUrl: '[redacted]', config: { redisUrl: '[redacted]' }, redis: { password: '[redacted]' } });
  });
});
