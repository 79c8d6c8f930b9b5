import { checkPorts, createChallenge, type CheckPortsResult, type ServerAttempt } from './check-ports.js';
import { bindTemporaryListeners, type PortBinding } from './temporary-listeners.js';
import type { VerifiedPort, VerifyReport } from './verify-report.js';

export interface VerifyOptions {
  ports: readonly number[];
  servers: readonly string[];
  /** Address to check; left out, the checker checks the address it sees this machine from. */
  providerIp?: string | undefined;
  /** How long to wait for each checker. */
  timeoutMs: number;
  /** Where the temporary listeners bind; left out, every interface. */
  bindHost?: string | undefined;
  signal?: AbortSignal | undefined;
  onAttempt?: ((attempt: ServerAttempt) => void) | undefined;
}

/**
 * The provider's whole check: bind a temporary listener on every free port, each answering a
 * fresh challenge; ask the checkers; close the listeners, whatever happens. Rejects with
 * CheckPortsError when no checker answers, or with the signal's reason when aborted.
 */
export async function verifyPorts(options: VerifyOptions): Promise<VerifyReport> {
  const { ports, bindHost, signal, ...check } = options;
  const challenge = createChallenge();
  const listeners = await bindTemporaryListeners(ports, { challenge, host: bindHost });
  try {
    signal?.throwIfAborted();
    const answer = await checkPorts({ ...check, ports, challenge, signal });
    return toReport(answer, listeners.bindings);
  } finally {
    await listeners.close();
  }
}

function toReport(answer: CheckPortsResult, bindings: ReadonlyMap<number, PortBinding>): VerifyReport {
  const ports = [...bindings].map(([port, { binding, error: localError }]): VerifiedPort => {
    const result = answer.results[String(port)]!;
    // A checker without challenge support leaves `verified` out: it can only say "accessible".
    const verified = result.verified ?? null;
    return {
      port,
      local: binding,
      local_error: localError,
      // Something other than this machine may answer for a port bound here: the challenge tells.
      // A port held by another process cannot answer it, so being accessible is all it can show.
      reachable: result.accessible && (binding !== 'bound' || verified !== false),
      accessible: result.accessible,
      state: result.state,
      verified,
      verify_error: result.verify_error ?? null,
      latency_ms: result.latency_ms,
      error: result.error,
      attempts: result.attempts,
    };
  });
  return {
    ok: ports.every((port) => port.reachable),
    server: answer.server,
    provider_ip: answer.providerIp,
    ports,
    attempts: answer.attempts.map(({ elapsedMs, ...attempt }) => ({ ...attempt, elapsed_ms: elapsedMs })),
  };
}
