import { z } from 'zod';

/**
 * Results go straight to the API process that waits for them. Each job names that process
 * (`replyTo`, an id it draws at start), and the worker publishes the job's end on the process's
 * own channel as it finishes the job, so no API process reads another's results. A reply is a
 * message, not stored: one that finds nobody listening (the API was reconnecting, or restarted)
 * is gone, and the API reads that result from the finished job's hash instead (probe-queue.ts).
 */
export const ReplyTo = z.string().regex(/^[\w-]{1,64}$/);

/**
 * The channel of API process `replyTo`, in the namespace of the queue named by PORT_CHECKER_QUEUE
 * (BullMQ's default prefix, `bull`): one per process, whichever queue the job came from.
 */
export function replyChannel(queueName: string, replyTo: string): string {
  return `bull:${queueName}:replies:${replyTo}`;
}

/** A job's end as the worker publishes it: its outcome, or why it has none. */
export const ProbeReply = z.discriminatedUnion('ok', [
  z.object({ jobId: z.string(), ok: z.literal(true), outcome: z.unknown() }),
  z.object({ jobId: z.string(), ok: z.literal(false), reason: z.string() }),
]);
export type ProbeReply = z.infer<typeof ProbeReply>;
