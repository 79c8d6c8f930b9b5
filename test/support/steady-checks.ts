import { expect, vi } from 'vitest';
import type { Service } from './service.js';

/** One check of the steady stream, as its caller saw it. */
export interface Answered {
  /** performance.now() when sent and answered. */
  sentAt: number;
  answeredAt: number;
  /** The client address it was sent as (X-Forwarded-For, loopback only). */
  client: string;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  /** The port's result, for a 200. */
  state: string | undefined;
}

export interface SteadyChecks {
  readonly answers: Answered[];
  /** Sends the checks from then on as `client` (a loopback address: it is only a label for the budgets). */
  sendAs(client: string): void;
  /** Resolves with the first 200 of a check sent after `since` (performance.now()). */
  succeeded(since: number, timeoutMs?: number): Promise<Answered>;
  /** Stops sending and waits for the checks in flight. */
  stop(): Promise<Answered[]>;
}

/**
 * Checks of one open loopback port, `concurrency` at a time, one after another, for as long as the
 * test runs: what the failover tests keep the service busy with. The service must trust loopback
 * proxies (PORT_CHECKER_TRUST_PROXY=loopback) for `sendAs`.
 */
export function steadyChecks(service: Service, port: number, { concurrency = 3, client = '127.0.0.1' } = {}): SteadyChecks {
  const answers: Answered[] = [];
  let stopping = false;
  let sendingAs = client;
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const as = sendingAs;
      const sentAt = performance.now();
      const answer = await service.check({ provider_ip: '127.0.0.1', ports: [port] }, { headers: { 'x-forwarded-for': as } }).catch(() => undefined);
      if (!answer) {
        // No answer at all (the API went away: the test failed and stopped it): no valid outcome, and the end of this loop.
        answers.push({ sentAt, answeredAt: performance.now(), client: as, status: 0, code: undefined, retryAfter: null, state: undefined });
        return;
      }
      const { status, body, headers } = answer;
      answers.push({
        sentAt,
        answeredAt: performance.now(),
        client: as,
        status,
        code: body.detail?.code,
        retryAfter: headers.get('retry-after'),
        state: body.results?.[port]?.state,
      });
      // A 503 comes back at once: paced, so that a Redis outage is not also a busy loop.
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    answers,
    sendAs(next) {
      sendingAs = next;
    },
    async succeeded(since, timeoutMs = 15_000) {
      let found: Answered | undefined;
      await vi.waitFor(
        () => {
          found = answers.find((a) => a.status === 200 && a.sentAt > since);
          expect(found).toBeDefined();
        },
        { timeout: timeoutMs, interval: 20 },
      );
      return found!;
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return answers;
    },
  };
}

/**
 * What a provider may be given, whatever Redis does: the true result (the port is open), or a 503
 * with Retry-After that sends it to another checker; never a 500, never a port called closed; and
 * never later than the deadline plus `slackMs`.
 */
export function expectOnlyTruthOr503(answers: readonly Answered[], deadlineMs: number, slackMs = 2000): void {
  expect(answers.length).toBeGreaterThan(0);
  for (const answer of answers) {
    if (answer.status === 200) expect(answer.state, JSON.stringify(answer)).toBe('open');
    else {
      expect(answer.status, JSON.stringify(answer)).toBe(503);
      expect(['SERVICE_UNAVAILABLE', 'CHECK_FAILED'], JSON.stringify(answer)).toContain(answer.code);
      expect(answer.retryAfter, JSON.stringify(answer)).toMatch(/^\d+$/);
    }
    expect(answer.answeredAt - answer.sentAt, JSON.stringify(answer)).toBeLessThan(deadlineMs + slackMs);
  }
}
