import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { CheckPortsError, checkPortsUrl } from './check-ports.js';
import { parsePortList } from './port-list.js';
import { verifyPorts, type VerifyOptions } from './verify.js';
import { startProgressLine } from './progress-line.js';
import { formatReport } from './verify-report.js';

/** This package's version, from its package.json (one level above both src/ and dist/). */
export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export const USAGE = `Usage: port-checker verify --ports <list> --server <url> [--server <url>...] [options]

Binds a temporary listener on every free port, asks a port checker whether each port is
reachable from outside and whether the listener's random challenge came back, then closes
the listeners. Ports already in use are left alone and only checked.

Options:
  -p, --ports <list>    ports and ranges, e.g. 7466,50800-50900 (repeatable)
  -s, --server <url>    port checker, e.g. http://checker:9000 (repeatable: asked in order
                        until one answers; default: PORT_CHECKER_URL, comma-separated)
      --ip <address>    address to check (default: the address the checker sees)
      --bind <address>  where to bind the temporary listeners (default: every interface)
      --timeout <s>     seconds to wait for each checker (default: 30)
      --json            print a JSON report instead of the table
  -v, --verbose         under each port, what each of the checker's vantages found (from a
                        checker that probes from several)
  -h, --help            show this help
  -V, --version         print the version

Exit status: 0 every port reachable, 1 some port not, 2 usage or server error.
`;

export const EXIT = { OK: 0, UNREACHABLE: 1, ERROR: 2, INTERRUPTED: 130 } as const;

/**
 * A checker's largest default budget (ports per target a minute): more could never all be checked.
 * A default checker also allows one client 300 ports a minute, and answers 429 beyond that.
 */
export const MAX_PORTS_PER_RUN = 1000;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type VerifyCommand = Pick<VerifyOptions, 'ports' | 'servers' | 'providerIp' | 'timeoutMs' | 'bindHost'> & {
  json: boolean;
  verbose: boolean;
};

/**
 * `verify` and its options → what to run, `'help'`, `'version'`, or a UsageError saying what is wrong.
 * `env` gives PORT_CHECKER_URL, the servers when no --server is given.
 */
export function parseVerifyArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): VerifyCommand | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ports: { type: 'string', short: 'p', multiple: true },
        server: { type: 'string', short: 's', multiple: true },
        ip: { type: 'string' },
        bind: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (positionals[0] !== 'verify') throw new UsageError(positionals[0] ? `unknown command "${positionals[0]}"` : 'no command given');
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (!values.ports) throw new UsageError('--ports is required, e.g. --ports 7466,50800-50900');
  const servers = values.server ?? (env.PORT_CHECKER_URL ?? '').split(',').map((url) => url.trim()).filter(Boolean);
  if (servers.length === 0) {
    throw new UsageError('--server (or PORT_CHECKER_URL) is required, e.g. --server http://checker:9000');
  }
  for (const server of servers) {
    try {
      checkPortsUrl(server);
    } catch (err) {
      throw new UsageError(`${values.server ? '--server' : 'PORT_CHECKER_URL'}: ${(err as Error).message}`);
    }
  }
  const timeout = Number(values.timeout ?? 30);
  if (!(timeout > 0 && timeout <= 600)) throw new UsageError(`--timeout must be seconds from 0 to 600, got "${values.timeout}"`);
  if (values.ip !== undefined && isIP(values.ip) === 0) throw new UsageError(`--ip must be an IPv4 or IPv6 address, got "${values.ip}"`);
  let ports: number[];
  try {
    ports = parsePortList(values.ports);
  } catch (err) {
    throw new UsageError(`--ports: ${(err as Error).message}`);
  }
  // More than a checker takes in one request are split into several; say so before binding anything.
  if (ports.length > MAX_PORTS_PER_RUN) {
    throw new UsageError(`--ports: at most ${MAX_PORTS_PER_RUN} ports per run, got ${ports.length}`);
  }
  return {
    ports,
    servers,
    providerIp: values.ip,
    timeoutMs: Math.round(timeout * 1000),
    bindHost: values.bind,
    json: values.json ?? false,
    verbose: values.verbose ?? false,
  };
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborts the check, e.g. on Ctrl-C. */
  signal?: AbortSignal;
  /** For PORT_CHECKER_URL. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `port-checker` with `argv` (without node and the script) and returns the exit status. */
export async function runCli(argv: readonly string[], { stdout, stderr, signal, env }: CliIo): Promise<number> {
  let command: ReturnType<typeof parseVerifyArgs>;
  try {
    command = parseVerifyArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`port-checker: ${err.message}\nTry "port-checker --help".\n`);
    return EXIT.ERROR;
  }
  if (command === 'help' || command === 'version') {
    stdout.write(command === 'help' ? USAGE : `${VERSION}\n`);
    return EXIT.OK;
  }

  const { json, verbose, ...options } = command;
  const progress = startProgressLine(stderr, options.servers, options.ports.length);
  try {
    const report = await verifyPorts({ ...options, signal, onAttempt: progress.onAttempt });
    progress.stop();
    stdout.write(json ? `${JSON.stringify(report)}\n` : formatReport(report, { verbose }));
    return report.ok ? EXIT.OK : EXIT.UNREACHABLE;
  } catch (err) {
    progress.stop();
    if (signal?.aborted) {
      stderr.write('port-checker: interrupted; the temporary listeners are closed\n');
      return EXIT.INTERRUPTED;
    }
    if (!(err instanceof CheckPortsError)) throw err;
    stderr.write(`port-checker: no port checker answered\n`);
    for (const attempt of err.attempts) stderr.write(`  ${attempt.server}: ${attempt.error}\n`);
    return EXIT.ERROR;
  }
}
