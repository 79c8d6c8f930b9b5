import { describe, expect, it } from 'vitest';
import { isAllowedTarget, isPublicAddress, parseIpLiteral } from '../src/target-policy.js';

describe('parseIpLiteral', () => {
  it.each([
    ['8.8.8.8', '8.8.8.8'],
    ['2001:4860:4860:0000:0000:0000:0000:8888', '2001:4860:4860::8888'],
    ['::ffff:8.8.4.4', '8.8.4.4'],
    ['::1', '::1'],
  ])('accepts %s as %s', (text, canonical) => {
    expect(parseIpLiteral(text)).toBe(canonical);
  });

  it.each(['example.com', 'localhost', '127.1', '0x7f.0.0.1', '0177.0.0.1', '010.0.0.1', '2130706433', 'fe80::1%eth0', '1.2.3.4 ', '', '1.2.3.4/32'])(
    'refuses %j',
    (text) => {
      expect(parseIpLiteral(text)).toBeUndefined();
    },
  );
});

describe('isPublicAddress', () => {
  it.each([
    '0.1.2.3', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.169.254', '172.16.0.1', '172.31.255.255',
    '192.0.0.8', '192.0.2.1', '192.88.99.1', '192.168.1.1', '198.18.0.1', '198.19.255.255', '198.51.100.7',
    '203.0.113.7', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255',
    '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '64:ff9b::a00:1', '64:ff9b:1::1',
    '2001::1', '2001:1ff::1', '2001:db8::1', '2002:c000:0204::1', '3fff::1', '4000::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(parseIpLiteral(address)!)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.32.0.1', '192.169.0.1', '223.255.255.255', '2001:4860:4860::8888', '2a00:1450::1', '2001:200::1', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(parseIpLiteral(address)!)).toBe(true);
    },
  );

  it('lets every address through only when local targets are allowed', () => {
    expect(isAllowedTarget('127.0.0.1', false)).toBe(false);
    expect(isAllowedTarget('127.0.0.1', true)).toBe(true);
  });
});
