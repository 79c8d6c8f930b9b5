import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { PROBE_JOB_NAME, type Logger, type ProbeJob } from '@port-checker/shared';
import { createProbeProcessor, type DropReason } from '../src/probe.processor.js';

const settings = { maxAttempts: 1, retryDelayMs: 0, timeoutMs: 1000, retryRefused: false };
const job = (host: string): Job => ({ id: 'j-1', name: PROBE_JOB_NAME, data: { host, port: 9, deadline: Date.now() + 5000, ...settings } satisfies ProbeJob }) as unknown as Job;

describe('a vantage with a source address', () => {
  it("fails a job for the other address family rather than report a state it could not see, and says why", async () => {
    const dropped: DropReason[] = [];
    const process = createProbeProcessor({
      checkTarget: () => undefined,
      limits: { probe: settings, deadlineMs: 7000 },
      logger: { warn: () => {}, debug: () => {} } as unknown as Logger,
      sourceAddress: '127.0.0.2',
      onDropped: (reason) => dropped.push(reason),
    });
    const failed = process(job('::1'));
    await expect(failed).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(failed).rejects.toThrow(/probes from 127.0.0.2 only: it has no path to ::1's address family/);
    expect(dropped).toEqual(['no_source_address']);
  });
});
