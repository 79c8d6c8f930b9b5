import { describe, expect, it } from 'vitest';
import { findUnknownVariables } from '../src/unknown-variables.js';

describe('findUnknownVariables', () => {
  it('names the variable probably meant by a misspelled one', () => {
    const env = { PORT_CHECKER_RATE_LIMT_PORTS: '5', PORT_CHECK_TIMOUT: '2', PORT_CHECKER_PORT: '9000', PATH: '/bin' };
    expect(findUnknownVariables(env)).toEqual([
      { variable: 'PORT_CHECKER_RATE_LIMT_PORTS', closest: 'PORT_CHECKER_RATE_LIMIT_PORTS' },
      { variable: 'PORT_CHECK_TIMOUT', closest: 'PORT_CHECK_TIMEOUT' },
    ]);
  });

  it('names none when nothing is close, and leaves the CLI variable and other prefixes alone', () => {
    const env = { PORT_CHECKER_SOMETHING_ELSE_ENTIRELY: '1', PORT_CHECKER_URL: 'http://a:9000', PORTCHECKER_X: '1' };
    expect(findUnknownVariables(env)).toEqual([{ variable: 'PORT_CHECKER_SOMETHING_ELSE_ENTIRELY', closest: undefined }]);
  });
});
