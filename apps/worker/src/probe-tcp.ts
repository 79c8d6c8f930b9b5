import { connect } from 'node:net';
import type { PortState } from '@port-checker/shared';

export interface TcpProbeResult {
  state: PortState;
  error: string | null;
  /** Time to the completed handshake; null unless open. */
  latencyMs: number | null;
}

export interface TcpProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
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
 * One TCP connect to `host:port`. Sends nothing, and closes with a reset rather than a FIN so
 * that a busy worker does not pile up TIME_WAIT sockets. Never rejects.
 */
export function probeTcp(host: string, port: number, { timeoutMs, signal }: TcpProbeOptions): Promise<TcpProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port, noDelay: true });
    const finish = (result: TcpProbeResult): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      // A late 'error' from the destroyed socket must not become an uncaught exception.
      socket.on('error', () => {});
      if (socket.connecting || socket.destroyed) socket.destroy();
      else socket.resetAndDestroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ...TIMED_OUT, latencyMs: null });
    const timer = setTimeout(onAbort, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();

    socket.once('connect', () => {
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      finish({ state: 'open', error: null, latencyMs });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const known = err.code ? ERRORS[err.code] : undefined;
      finish({ ...(known ?? { state: 'error', error: err.message }), latencyMs: null });
    });
  });
}
