import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What the Dockerfile, the systemd units and `pnpm start` run the apps with (README "Performance"). */
export const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=16';

export type LogLine = Record<string, unknown>;

export interface AppProcess {
  child: ChildProcess;
  pid: number;
  /** JSON log lines written so far. */
  lines: LogLine[];
  /** Resolves with the first log line (past or future) that matches. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resident memory in bytes, from /proc. */
  rss(): number;
  /** Open file descriptors (sockets included), from /proc. */
  fds(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs an app in a process of its own: its `main.ts` from source (tests need no build), or
 * with `fromBuild` its `dist/main.js`, exactly as in production.
 */
export function spawnApp(
  app: 'api' | 'worker',
  env: Record<string, string>,
  {
    fromBuild = false,
    cwd = root,
    nodeArgs = [],
    entry = `apps/${app}/dist/main.js`,
  }: {
    fromBuild?: boolean;
    /** Another checkout's build, for before/after benchmarks; or a `pnpm deploy` folder (with `entry`). */
    cwd?: string;
    nodeArgs?: string[];
    /** With `fromBuild`, the script run, relative to `cwd`: `dist/main.js` in a `pnpm deploy` folder. */
    entry?: string;
  } = {},
): AppProcess {
  const args = nodeArgs.concat(fromBuild
    ? [entry]
    : ['--conditions=development', '--import', 'tsx', `apps/${app}/src/main.ts`]);
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...(fromBuild && { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const watcher of watchers) watcher(line);
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');

  return {
    child,
    pid: child.pid!,
    lines,
    waitForLine(match, timeoutMs = 20_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new Error(`${app}: no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const watcher = (line: LogLine): void => {
          if (!match(line)) return;
          clearTimeout(timer);
          watchers.delete(watcher);
          resolve(line);
        };
        watchers.add(watcher);
        void exited.then(() => {
          if (!watchers.has(watcher)) return;
          clearTimeout(timer);
          reject(new Error(`${app} exited; stderr: ${stderr.slice(-2000)}`));
        });
      });
    },
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    fds() {
      return readdirSync(`/proc/${child.pid}/fd`).length;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Every process below `pid` (children, grandchildren, …) with its command line, from /proc. */
export function descendants(pid: number): Array<{ pid: number; command: string }> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      // The parent is the 4th field of stat, after the command in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: Array<{ pid: number; command: string }> = [];
  const visit = (parent: number): void => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push({ pid: child, command: readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** Resolves once none of `pids` runs any more (zombies count as gone); rejects after `timeoutMs`. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 30_000): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms: ${pids.filter(alive).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
