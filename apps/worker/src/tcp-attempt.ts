import { connect } from 'node:net';
import type { PortState } from '@port-checker/shared';

export interface TcpAttempt {
  state: PortState;
  error: string | null;
  /** Time to the completed handshake; null unless open. */
  latencyMs: number | null;
  /** Only with a challenge: whether the token arrived on the connection. */
  verified?: boolean;
  /** Only with a challenge: why it is not verified, null when it is. */
  verifyError?: string | null;
}

export interface TcpAttemptOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** After connecting, wait up to `CHALLENGE_TIMEOUT_MS` (at most `timeoutMs`) for this token to arrive first. */
  challenge?: string | undefined;
  /** The address the connection leaves from (PORT_CHECKER_SOURCE_ADDRESS): the vantage's. */
  localAddress?: string | undefined;
}

// Named as nmap's connect scan would report them.
const ERRORS: Record<string, { state: PortState; error: string }> = {
  ECONNREFUSED: { state: 'closed', error: 'Connection refused' },
  ETIMEDOUT: { state: 'filtered', error: 'Connection timed out' },
  EHOSTUNREACH: { state: 'filtered', error: 'Host unreachable' },
  ENETUNREACH: { state: 'filtered', error: 'Network unreachable' },
};
const TIMED_OUT = ERRORS.ETIMEDOUT!;
/**
 * The caller's own listener sends its token at once; whatever else holds the port gets no more
 * of our time than this (a pre-auth slot of sshd is a scarce thing).
 */
export const CHALLENGE_TIMEOUT_MS = 2000;

/**
 * One TCP connect to `host:port`. Sends nothing, and closes with a reset rather than a FIN so
 * that a busy worker does not pile up TIME_WAIT sockets. With a challenge, the port counts as
 * verified only if the token is the first thing it sends; no more than the token's length is
 * read, and the connection is closed as soon as that is known. Never rejects.
 */
export function attemptTcp(
  host: string,
  port: number,
  { timeoutMs, signal, challenge, localAddress }: TcpAttemptOptions,
): Promise<TcpAttempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port, noDelay: true, ...(localAddress !== undefined && { localAddress }) });
    let opened: TcpAttempt | undefined;
    const finish = (result: TcpAttempt): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      // A late 'error' from the destroyed socket must not become an uncaught exception.
      socket.on('error', () => {});
      if (socket.connecting || socket.destroyed) socket.destroy();
      else socket.resetAndDestroy();
      resolve(result);
    };
    const unverified = (verifyError: string): void => finish({ ...opened!, verified: false, verifyError });
    const onAbort = (): void => {
      if (opened) unverified('Stopped waiting for the challenge: the check ended');
      else finish({ ...TIMED_OUT, latencyMs: null });
    };
    let timer = setTimeout(onAbort, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();

    socket.once('connect', () => {
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      opened = { state: 'open', error: null, latencyMs };
      if (challenge === undefined) return finish(opened);

      clearTimeout(timer);
      const readMs = Math.min(timeoutMs, CHALLENGE_TIMEOUT_MS);
      timer = setTimeout(() => unverified(`Challenge not received within ${readMs} ms`), readMs);
      const token = Buffer.from(challenge);
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]).subarray(0, token.length);
        if (received.equals(token)) finish({ ...opened!, verified: true, verifyError: null });
        else if (!token.subarray(0, received.length).equals(received)) unverified('Received data without the challenge');
      });
      socket.once('end', () => unverified('Connection closed without the challenge'));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (opened) return unverified(`Connection failed before the challenge arrived: ${err.code ?? err.message}`);
      const known = err.code ? ERRORS[err.code] : undefined;
      finish({ ...(known ?? { state: 'error', error: err.message }), latencyMs: null });
    });
  });
}
