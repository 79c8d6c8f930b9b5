// The `port-checker` command: `port-checker verify --ports 7466,50800-50900 --server http://checker:9000`.
import { EXIT, runCli } from './verify-command.js';

// Ctrl-C (or a TERM) ends the check early; the listeners are closed before the process exits.
// A second Ctrl-C gets the default behaviour and ends the process at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupt.abort(new Error(signal)));

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    signal: interrupt.signal,
    env: process.env,
  });
} catch (err) {
  process.stderr.write(`port-checker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT.ERROR;
}
