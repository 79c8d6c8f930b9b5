import { AppError, RETRY_AFTER_SECONDS } from '@port-checker/shared';

export interface OverloadLimits {
  /** Waiting probe jobs beyond which new requests are turned away. */
  maxBacklog: number;
  /** Check requests this process waits on at once. */
  maxInFlight: number;
}

const REFRESH_MS = 250;

/**
 * Turns requests away at once, with a 503, when waiting would most likely end in CHECK_FAILED
 * anyway. Costs no Redis round trip per request: the queue's backlog is read every 250 ms, and
 * between reads this process adds what it has enqueued itself, so its own burst counts at once.
 */
export class OverloadGuard {
  private backlogRead = 0;
  private enqueuedSinceRead = 0;
  private inFlight = 0;
  private refreshing = false;
  private readonly idleListeners: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    /** Reads the jobs no worker has taken yet. */
    private readonly countBacklog: () => Promise<number>,
    private readonly limits: OverloadLimits,
  ) {
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
  }

  /** Admits a request of `jobs` probe jobs, or throws; call the returned function when it ends. */
  admit(jobs: number): () => void {
    if (this.inFlight >= this.limits.maxInFlight) {
      throw unavailable(`this API process is already waiting on ${this.inFlight} checks`);
    }
    if (this.backlogRead + this.enqueuedSinceRead > this.limits.maxBacklog) {
      throw unavailable('the probe workers are saturated');
    }
    this.inFlight += 1;
    this.enqueuedSinceRead += jobs;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const listener of this.idleListeners.splice(0)) listener();
    };
  }

  /** Resolves once no admitted request is in flight: at once if none is. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    // A read that Redis is slow to answer is not joined by another every 250 ms.
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const sinceBefore = this.enqueuedSinceRead;
      this.backlogRead = await this.countBacklog();
      // Jobs enqueued while the read was on its way may or may not be in it; count them once more
      // rather than not at all.
      this.enqueuedSinceRead -= sinceBefore;
    } catch {
      // Redis is away: enqueueing fails with its own 503, and the last reading stands.
    } finally {
      this.refreshing = false;
    }
  }
}

function unavailable(why: string): AppError {
  return new AppError('SERVICE_UNAVAILABLE', `overloaded: ${why}; try again shortly or ask another checker`, {
    retryAfter: RETRY_AFTER_SECONDS,
  });
}
