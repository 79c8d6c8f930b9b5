import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, hotLineLogger } from '../src/logger.js';

/** A destination that keeps what is written to it, line by line. */
function capture(): { written: string[]; destination: Writable } {
  const written: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      done();
    },
  });
  return { written, destination };
}

describe('createLogger', () => {
  it('redacts Authorization headers and tokens from what it writes', () => {
    const { written, destination } = capture();
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

describe('hotLineLogger', () => {
  it('keeps secrets out of the open field and of the named paths, and writes the rest as is', () => {
    const { written, destination } = capture();
    const logger = hotLineLogger(createLogger({ name: 'test', destination }), 'err');

    logger.info({ reqId: 'r1', status: 503, err: { message: 'down', options: { password: 's3cret-one' }, redis: { url: 'redis://:s3cret-two@h' } } }, 'request');
    logger.info({ token: 's3cret-three', req: { headers: { authorization: 'Bearer s3cret-four' } } }, 'request');
    logger.info({ err: { apiToken: 's3cret-five', sentinelPassword: 's3cret-six' } }, 'request');
    // The line's own fields are not searched (that is what makes it cheap): the request line holds none that a secret can reach.
    logger.info({ states: { token: 'a-state', password: 'a-state' } }, 'request');

    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ name: 'test', reqId: 'r1', status: 503, err: { message: 'down', options: { password: '[redacted]' }, redis: { url: '[redacted]' } } });
    expect(lines[1]).toMatchObject({ token: '[redacted]', req: { headers: { authorization: '[redacted]' } } });
    expect(lines[2]).toMatchObject({ err: { apiToken: '[redacted]', sentinelPassword: '[redacted]' } });
    expect(lines[3]).toMatchObject({ states: { token: 'a-state', password: 'a-state' } });
    expect(written.join('')).not.toContain('s3cret');
  });
});
