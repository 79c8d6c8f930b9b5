import { describe, expect, it } from 'vitest';
import { clientKey } from '../src/budgets/counters.js';

describe('clientKey', () => {
  it('counts an IPv4 address on its own', () => {
    expect(clientKey('198.51.100.7')).toBe('198.51.100.7');
  });

  it('counts IPv6 addresses per /64, so that rotating through one network does not escape a limit', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });
});
