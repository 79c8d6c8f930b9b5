import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { Challenge, Port, PortState } from '@port-checker/contract';
import { keepFinishedSeconds } from './deadline.js';
import { ReplyTo } from './probe-reply.js';
import { parseIpLiteral } from './target-policy.js';

/**
 * The queue contract between the API and the workers. The API validates before it adds a job
 * and the worker parses `job.data` again, so a job left in Redis by another version fails
 * clearly instead of strangely.
 */
export const PROBE_JOB_NAME = 'probe';
export const TLS_PROBE_JOB_NAME = 'tls-probe';

const IpLiteral = z.string().refine((host) => parseIpLiteral(host) === host, 'must be a canonical IP literal');
/** Epoch milliseconds by which the probe must have ended: its check's `probesEndBy` (deadline.ts). */
const Deadline = z.number().int().positive();

export const ProbeJob = z.object({
  host: IpLiteral,
  port: Port,
  timeoutMs: z.number().int().positive(),
  /** The most attempts the probe makes, the first included (PORT_CHECK_RETRIES). */
  maxAttempts: z.number().int().min(1),
  retryDelayMs: z.number().int().min(0),
  retryRefused: z.boolean(),
  deadline: Deadline,
  /** The token an open port must send back to count as verified; absent: connect only. */
  challenge: Challenge.optional(),
  /** The API process waiting for the result (probe-reply.ts); absent: nobody is told, it is read from the job. */
  replyTo: ReplyTo.optional(),
});
export type ProbeJob = z.infer<typeof ProbeJob>;

export const ProbeOutcome = z.object({
  state: PortState,
  error: z.string().nullable(),
  attempts: z.number().int().min(0),
  latencyMs: z.number().nullable(),
  /** Only when the job carried a challenge. */
  verified: z.boolean().optional(),
  verifyError: z.string().nullable().optional(),
});
export type ProbeOutcome = z.infer<typeof ProbeOutcome>;

/** One TLS handshake, for `POST /check-tls`. */
export const TlsProbeJob = z.object({
  host: IpLiteral,
  port: Port,
  /** Must be among the certificate's IP subject alternative names. */
  expectedIp: IpLiteral.optional(),
  timeoutMs: z.number().int().positive(),
  deadline: Deadline,
  replyTo: ReplyTo.optional(),
});
export type TlsProbeJob = z.infer<typeof TlsProbeJob>;

export const TlsProbeOutcome = z.object({
  valid: z.boolean(),
  error: z.string().nullable(),
  /** The certificate's expiry, RFC 3339; null when no certificate was seen. */
  notAfter: z.string().nullable(),
});
export type TlsProbeOutcome = z.infer<typeof TlsProbeOutcome>;

/** Never more finished jobs than this are kept, however long their deadline. */
export const FINISHED_JOBS_KEPT = 50_000;

/**
 * Options of every probe job. A finished job is kept a little longer than anyone may wait for
 * it (the API reads a result whose reply it missed from the job itself, up to the
 * deadline), then removed, so Redis does not grow with traffic.
 */
export function probeJobOptions(deadlineMs: number) {
  const keep = { age: keepFinishedSeconds(deadlineMs), count: FINISHED_JOBS_KEPT };
  return {
    // A closed or filtered port is a result, not a failure: BullMQ's own attempts only cover
    // unexpected errors, such as a worker dying mid-probe.
    attempts: 2,
    removeOnComplete: keep,
    removeOnFail: keep,
  } satisfies JobsOptions;
}
