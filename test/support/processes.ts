import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

export interface AppProcess {
  child: ChildProcess;
  /** Every JSON line the process has written to stdout so far. */
  lines: LogLine[];
  /** Resolves with the first line (already written or still to come) that matches. */
  waitForLog(matches: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills it if it still runs; for cleanup. */
  kill(): Promise<void>;
}

/**
 * Runs an app's `main.ts` in a process of its own, from the TypeScript sources (no build
 * needed), with only the variables given: signals and deaths can then be tested for real.
 */
export function spawnApp(app: 'api' | 'worker', env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const events = new EventEmitter();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      events.emit('line', line);
    } catch {
      // not a log line
    }
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    events.emit('exit');
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });

  return {
    child,
    lines,
    exited,
    waitForLog(matches, timeoutMs = 15_000) {
      const found = lines.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          events.off('line', onLine);
          events.off('exit', onExit);
        };
        const onLine = (line: LogLine): void => {
          if (!matches(line)) return;
          done();
          resolve(line);
        };
        const onExit = (): void => {
          done();
          reject(new Error(`${app} exited before the awaited log line; stderr: ${stderr}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${app} did not log the awaited line in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        events.on('line', onLine);
        events.on('exit', onExit);
      });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
