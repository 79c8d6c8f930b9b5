import type { Logger } from './logger.js';

export interface ShutdownStep {
  /** Named in the step's log line, e.g. "http server". */
  name: string;
  run(): unknown;
  /** Gives up on the step after this long, e.g. one that waits for a Redis that is away. */
  timeoutMs?: number;
}

/**
 * Runs the steps in order, each in its own try/catch: a step that fails or times out is logged
 * and the rest still run, so that a lost Redis connection does not keep the HTTP server open.
 * Rejects at the end if any step failed.
 */
export async function runShutdownSteps(steps: readonly ShutdownStep[], logger: Logger): Promise<void> {
  const failed: string[] = [];
  for (const { name, run, timeoutMs } of steps) {
    const started = performance.now();
    try {
      await (timeoutMs === undefined ? run() : withTimeout(Promise.resolve(run()), timeoutMs));
      logger.info({ step: name, durationMs: Math.round(performance.now() - started) }, 'shutdown step done');
    } catch (err) {
      failed.push(name);
      logger.error({ err, step: name }, 'shutdown step failed');
    }
  }
  if (failed.length > 0) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
}

async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref();
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes an async close safe to call any number of times: later calls share the first one's promise. */
export function idempotent(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

export interface CloseOnSignalsOptions {
  logger: Logger;
  close(): Promise<void>;
  /** A close that takes longer than this ends the process with exit code 1. */
  timeoutMs: number;
}

/**
 * On the first SIGTERM or SIGINT, closes; the process then ends by itself, as nothing is left
 * open, or at once with exit code 1 if a step failed (what it left open would hold the process).
 * Later signals are logged and otherwise ignored, so a second Ctrl-C or an impatient
 * supervisor cannot cut a drain short: the force-exit timer does that, and it is unref()ed so
 * that it never keeps a process alive that has finished closing.
 */
export function closeOnSignals({ logger, close, timeoutMs }: CloseOnSignalsOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.info({ signal }, 'already stopping');
      return;
    }
    stopping = true;
    logger.info({ signal, timeoutMs }, 'stopping');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'did not stop in time; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    close().then(
      () => logger.info('stopped'),
      (err: unknown) => {
        logger.error({ err }, 'stopped, not cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
