import { describe, expect, it } from 'vitest';
import { limitInWords } from '../public/api-client.js';
import { chunk, parsePorts } from '../public/port-list.js';
import { Limit } from '@port-checker/shared';
import { describeWait, parseRetryAfter } from '../public/wait-words.js';

// The page's own logic, without a browser; test/browser/home.browser.test.ts runs it in one.
describe('parsePorts, what a person types in "Ports"', () => {
  it('reads lists and ranges, with commas or spaces, in the order typed, each port once', () => {
    expect(parsePorts('7466, 50800-50803')).toEqual([7466, 50800, 50801, 50802, 50803]);
    expect(parsePorts(' 443 80,22;80 ')).toEqual([443, 80, 22]);
    expect(parsePorts('10 - 12, 11–13')).toEqual([10, 11, 12, 13]);
  });

  it.each([
    ['7466, 70000', /“70000” is not a port/],
    ['7466, ssh', /“ssh” is not a port/],
    ['0', /“0” is not a port/],
    ['50900-50800', /“50900-50800” runs backwards: write the lower port first, as in 50800-50900/],
    ['1.5', /“1.5” is not a port/],
    [' , ', /Type at least one port/],
  ])('names the entry that is wrong in %j', (text, message) => {
    expect(() => parsePorts(text)).toThrow(message);
  });
});

describe('chunk', () => {
  it('splits a list into requests of at most the given size, in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([1, 2], 128)).toEqual([[1, 2]]);
  });
});

describe('waits in words', () => {
  it.each([
    [1, '1 second'],
    [0.2, '1 second'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [61, '2 minutes'],
    [3599, '60 minutes'],
    [3600, '1 hour'],
    [3601, '2 hours'],
  ])('%d s is "%s", rounded up', (seconds, words) => {
    expect(describeWait(seconds)).toBe(words);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('42', now)).toBe(42);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('limitInWords', () => {
  it.each(Limit.options)('explains a 429 from the %s limit, named in detail.limit', (limit) => {
    expect(limitInWords(limit)).toMatch(/^This checker limits how (many checks|many ports|often) one (address|network) may/);
  });

  it('says nothing of a limit it does not know, or of none', () => {
    expect(limitInWords('per-client limit: 127.0.0.1 may have 300 ports checked per 60 s')).toBeUndefined();
    expect(limitInWords(undefined)).toBeUndefined();
  });
});
