import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cliSource = fileURLToPath(new URL('../../packages/client/src/cli.ts', import.meta.url));
/** `port-checker` from its TypeScript sources, in a process of its own: no build needed. */
const cliCommand = [process.execPath, '--conditions=development', '--import', 'tsx', cliSource];

export type CliProcess = ChildProcessByStdio<null, Readable, Readable> & { output: { stdout: string; stderr: string } };

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(command: string, args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as CliProcess;
  child.output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (child.output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (child.output.stderr += chunk.toString()));
  return child;
}

/** `env` is added to this process's environment (PORT_CHECKER_URL, say). */
export const spawnCli = (args: readonly string[], env: Record<string, string> = {}): CliProcess =>
  start(cliCommand[0]!, [...cliCommand.slice(1), ...args], env);

/** Resolves when the process has exited and its output is read to the end. */
export async function exitOf(child: CliProcess): Promise<CliRun> {
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, ...child.output };
}

export const runCli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> => exitOf(spawnCli(args, env));

const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would;
 * stdout and stderr arrive mixed in `stdout`, as on a screen.
 */
export function runCliInTerminal(args: readonly string[]): Promise<CliRun> {
  const command = [...cliCommand, ...args].map(shellQuote).join(' ');
  return exitOf(start('script', ['--quiet', '--return', '--command', command, '/dev/null']));
}
