import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

describe('createLogger', () => {
  it('redacts Authorization headers and tokens from what it writes', () => {
    const written: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ name: 'test', destination });

    logger.info({ req: { headers: { authorization: 'Bearer s3cret-one', host: 'x' } } }, 'request');
    logger.info({ headers: { authorization: 'Bearer s3cret-two' } }, 'headers');
    logger.info({ auth: { token: 's3cret-three' } }, 'nested token');

    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ req: { headers: { authorization: '[redacted]', host: 'x' } } });
    expect(lines[1]).toMatchObject({ headers: { authorization: '[redacted]' } });
    expect(lines[2]).toMatchObject({ auth: { token: '[redacted]' } });
    expect(written.join('')).not.toContain('s3cret');
  });
});
