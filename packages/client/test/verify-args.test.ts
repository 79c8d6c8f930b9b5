import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { parseVerifyArgs, UsageError, VERSION, type VerifyCommand } from '../src/verify-command.js';

const server = 'http://checker:9000';

describe('parseVerifyArgs', () => {
  it('reads every option', () => {
    const argv = ['verify', '-p', '7466', '--ports', '50800-50801', '-s', server, '--server', 'https://b.example/pc/'];
    const extra = ['--ip', '203.0.113.7', '--bind', '127.0.0.1', '--timeout', '2.5', '--json', '--verbose'];
    expect(parseVerifyArgs([...argv, ...extra])).toEqual({
      ports: [7466, 50800, 50801],
      servers: [server, 'https://b.example/pc/'],
      providerIp: '203.0.113.7',
      bindHost: '127.0.0.1',
      timeoutMs: 2500,
      json: true,
      verbose: true,
    });
  });

  it('waits 30 s per checker, checks the address the checker sees and binds every interface by default', () => {
    expect(parseVerifyArgs(['verify', '--ports', '7466', '--server', server])).toEqual({
      ports: [7466],
      servers: [server],
      providerIp: undefined,
      bindHost: undefined,
      timeoutMs: 30_000,
      json: false,
      verbose: false,
    });
  });

  it('asks for help', () => {
    expect(parseVerifyArgs(['--help'])).toBe('help');
    expect(parseVerifyArgs(['verify', '-h'])).toBe('help');
  });

  it("asks for the version, the package's", () => {
    expect(parseVerifyArgs(['--version'])).toBe('version');
    expect(parseVerifyArgs(['-V'])).toBe('version');
    expect(VERSION).toBe((createRequire(import.meta.url)('../package.json') as { version: string }).version);
  });

  it('takes the servers from PORT_CHECKER_URL, comma-separated, when no --server is given', () => {
    const env = { PORT_CHECKER_URL: `${server}, https://b.example/pc/` };
    expect(parseVerifyArgs(['verify', '--ports', '7466'], env)).toMatchObject({ servers: [server, 'https://b.example/pc/'] });
    expect(parseVerifyArgs(['verify', '--ports', '7466', '-s', 'http://c:9000'], env)).toMatchObject({ servers: ['http://c:9000'] });
    expect(() => parseVerifyArgs(['verify', '--ports', '1'], { PORT_CHECKER_URL: 'checker:9000' })).toThrow(
      'PORT_CHECKER_URL: "checker:9000" is not an http:// or https:// URL',
    );
    expect(() => parseVerifyArgs(['verify', '--ports', '1'], { PORT_CHECKER_URL: ' , ' })).toThrow('--server (or PORT_CHECKER_URL) is required');
  });

  it('takes more ports than one request holds (they are split), up to 1000', () => {
    const { ports } = parseVerifyArgs(['verify', '--ports', '1-1000', '--server', server]) as VerifyCommand;
    expect(ports).toHaveLength(1000);
    expect([ports[0], ports.at(-1)]).toEqual([1, 1000]);
  });

  it.each([
    [[], 'no command given'],
    [['check', '--ports', '1', '--server', server], 'unknown command "check"'],
    [['verify', '--server', server], '--ports is required'],
    [['verify', '--ports', '1'], '--server (or PORT_CHECKER_URL) is required'],
    [['verify', '--ports', '1-x', '--server', server], '--ports: "1-x" is not a port'],
    [['verify', '--ports', '1', '--server', 'checker:9000'], '--server: "checker:9000" is not an http:// or https:// URL'],
    [['verify', '--ports', '1', '--server', server, '--ip', 'localhost'], '--ip must be an IPv4 or IPv6 address'],
    [['verify', '--ports', '1', '--server', server, '--timeout', '0'], '--timeout must be seconds'],
    [['verify', '--ports', '1', '--server', server, '--timeout', 'soon'], '--timeout must be seconds'],
    [['verify', '--ports', '1', '--server', server, '--quiet'], "Unknown option '--quiet'"],
    [['verify', 'now', '--ports', '1', '--server', server], 'unexpected argument "now"'],
    [['verify', '--ports', '1-1001', '--server', server], '--ports: at most 1000 ports per run, got 1001'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseVerifyArgs(argv)).toThrow(UsageError);
    expect(() => parseVerifyArgs(argv)).toThrow(message);
  });
});
