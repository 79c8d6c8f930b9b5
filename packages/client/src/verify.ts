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
 * fresh challenge; ask the checkers (the ports held by other programs without the challenge);
 * close the listeners, whatever happens. Rejects with
 * CheckPortsError when no checker answers, or with the signal's reason when aborted.
 */
export async function verifyPorts(options: VerifyOptions): Promise<VerifyReport> {
  const { ports, bindHost, signal, ...check } = options;
  const challenge = createChallenge();
  const listeners = await bindTemporaryListeners(ports, { challenge, host: bindHost });
  try {
    signal?.throwIfAborted();
    // Only the ports bound here can send the challenge; a checker would wait in vain on the others.
    const challengedPorts = ports.filter((port) => listeners.bindings.get(port)?.binding === 'bound');
    const answer = await checkPorts({ ...check, ports, challenge, challengedPorts, signal });
    return toReport(answer, listeners.bindings);
  } finally {
    await listeners.close();
  }
}

function toReport(answer: CheckPortsResult, bindings: ReadonlyMap<number, PortBinding>): VerifyReport {
  const ports = [...bindings].map(([port, { binding, error: localError }]): VerifiedPort => {
    const result = answer.results[String(port)]!;
    // Left out for a port held by another program (asked without the challenge), and by a checker
    // without challenge support: either can only say "accessible".
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
      ...(result.vantages && { vantages: result.vantages }),
      ...(result.agreement !== undefined && { agreement: result.agreement }),
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
