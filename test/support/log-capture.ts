import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@port-checker/shared';

export interface CapturedLogs {
  logger: Logger;
  /** Every JSON line written so far, parsed. */
  lines: Array<Record<string, unknown>>;
}

/** A real pino logger whose JSON lines the test can read back. */
export function captureLogs(name: string): CapturedLogs {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name, debug: true, destination }), lines };
}
