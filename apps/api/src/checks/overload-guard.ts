import { AppError, RETRY_AFTER_SECONDS } from '@port-checker/shared';

export interface OverloadLimits {
  /** Waiting probe jobs beyond which new requests are turned away. */
  maxBacklog: number;
  /** Ports (probe jobs) this process waits on at once. */
  maxPortsInFlight: number;
  /** The most one request may ask: one client network's share is never less. */
  maxPortsPerRequest: number;
}

const REFRESH_MS = 250;
/** One client network may hold this part of the process's ports in flight, so that a few networks cannot take them all. */
const NETWORK_SHARE = 1 / 8;

/**
 * Turns requests away at once, with a 503, when waiting would most likely end in CHECK_FAILED
 * anyway. Costs no Redis round trip per request: the queue's backlog is read every 250 ms, and
 * between reads this process adds what it has enqueued itself, so its own burst counts at once.
 */
export class OverloadGuard {
  private backlogRead = 0;
  private enqueuedSinceRead = 0;
  private inFlight = 0;
  private portsInFlight = 0;
  private readonly portsByNetwork = new Map<string, number>();
  private readonly networkShare: number;
  private refreshing = false;
  private readonly idleListeners: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    /** Reads the jobs no worker has taken yet. */
    private readonly countBacklog: () => Promise<number>,
    private readonly limits: OverloadLimits,
  ) {
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
    this.networkShare = Math.max(Math.floor(limits.maxPortsInFlight * NETWORK_SHARE), limits.maxPortsPerRequest);
  }

  /**
   * Admits a request of `jobs` probe jobs from client network `network` (clientNetwork), or throws;
   * call the returned function when it ends.
   */
  admit(jobs: number, network: string): () => void {
    if (this.portsInFlight + jobs > this.limits.maxPortsInFlight) {
      throw unavailable(`this API process is already waiting on ${this.portsInFlight} ports`);
    }
    const ofNetwork = this.portsByNetwork.get(network) ?? 0;
    if (ofNetwork + jobs > this.networkShare) {
      throw unavailable(`${network} already has ${ofNetwork} ports being checked by this API process, its share`);
    }
    if (this.backlogRead + this.enqueuedSinceRead > this.limits.maxBacklog) {
      throw unavailable('the probe workers are saturated');
    }
    this.inFlight += 1;
    this.portsInFlight += jobs;
    this.portsByNetwork.set(network, ofNetwork + jobs);
    this.enqueuedSinceRead += jobs;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.portsInFlight -= jobs;
      const left = this.portsByNetwork.get(network)! - jobs;
      if (left === 0) this.portsByNetwork.delete(network);
      else this.portsByNetwork.set(network, left);
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
