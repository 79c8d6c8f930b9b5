import { describe, expect, it } from 'vitest';
import { parsePortList } from '../src/port-list.js';

describe('parsePortList', () => {
  it('reads single ports and ranges, as providers write them', () => {
    expect(parsePortList(['7466,50800-50803'])).toEqual([7466, 50800, 50801, 50802, 50803]);
  });

  it('joins several lists, drops duplicates and keeps the first order', () => {
    expect(parsePortList(['3, 1-2', '2,4', '1'])).toEqual([3, 1, 2, 4]);
  });

  it('takes a range of one port', () => {
    expect(parsePortList(['65535-65535'])).toEqual([65535]);
  });

  it.each(['0', '65536', '50900-50800', '80.5', 'http', '1-', '-5', '1-2-3', '', '7466,'])('refuses %j', (list) => {
    expect(() => parsePortList([list])).toThrow(RangeError);
  });

  it('names the part that is wrong', () => {
    expect(() => parsePortList(['7466,70000'])).toThrow('"70000" is not a port');
  });
});
