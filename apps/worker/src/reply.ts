import { UnrecoverableError, type Job } from 'bullmq';
import { ReplyTo, replyChannel } from '@port-checker/shared';

export interface Publisher {
  publish(channel: string, message: string): Promise<unknown>;
  /** ioredis's socket: held back for a moment so that the reply and BullMQ's next command share a write. */
  stream?: { cork(): void; uncork(): void; writableCorked: number };
}

/**
 * Wraps a processor so that each job's end goes straight to the API process that waits for it
 * (`replyTo`, see probe-reply.ts). The message is sent as the processor returns, so it leaves on
 * the worker's connection (`client`) with BullMQ's own command that finishes the job: the API
 * hears of the result as the job is marked done, for one PUBLISH, and no other API process hears
 * of it at all. A failure is told only when it is the job's last; BullMQ retries the others (a
 * worker that died mid-probe). Nothing is told when Redis is away: the API reads the job instead.
 */
export function replying<T>(queueName: string, client: Publisher, process: (job: Job) => Promise<T>) {
  function reply(job: Job, result: { ok: true; outcome: unknown } | { ok: false; reason: string }): void {
    const replyTo = ReplyTo.safeParse((job.data as { replyTo?: unknown } | undefined)?.replyTo);
    if (!replyTo.success || job.id === undefined) return;
    // The reply and the command that finishes the job, issued in this turn of the event loop, go
    // out in one write instead of two: a write is a system call, about as dear as the PUBLISH.
    const stream = client.stream;
    if (stream && stream.writableCorked === 0) {
      stream.cork();
      setImmediate(() => stream.uncork());
    }
    client.publish(replyChannel(queueName, replyTo.data), JSON.stringify({ jobId: job.id, ...result })).catch(() => {});
  }

  return async (job: Job): Promise<T> => {
    try {
      const outcome = await process(job);
      reply(job, { ok: true, outcome });
      return outcome;
    } catch (err) {
      const last = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last) reply(job, { ok: false, reason: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  };
}
