import type { CheckPortsResponse, CheckTlsResponse, PortResult, ProbeOutcome, VantageResult } from '@port-checker/shared';
import type { CheckedPort, CheckedTls, Consensus } from './vantages.js';

/**
 * The Golem port checker's answer: providers' existing clients read `results["<port>"].accessible`.
 * `verified` and `verify_error` are added only when the request carried a challenge, `vantages`
 * and `agreement` only when the port was probed from several vantages.
 */
export function portsAnswer(host: string, outcomes: ReadonlyMap<number, CheckedPort>, challenged = false): CheckPortsResponse {
  const results: Record<string, PortResult> = {};
  let accessible = 0;
  let verified = 0;
  for (const [port, outcome] of outcomes) {
    const { state, error, attempts, latencyMs } = outcome;
    const result: PortResult = {
      accessible: state === 'open',
      error,
      state,
      attempts,
      latency_ms: latencyMs,
      ...(challenged && toVerification(outcome)),
      ...(outcome.consensus && toConsensus(outcome.consensus, challenged)),
    };
    results[String(port)] = result;
    if (result.accessible) accessible += 1;
    if (result.verified) verified += 1;
  }
  // The Golem checker's words, where "verified" means accessible; with a challenge, `verified` means
  // more (the port sent the token back), so the message counts both rather than contradict it.
  const message = challenged
    ? `${accessible} out of ${outcomes.size} ports accessible, ${verified} of them verified by the challenge`
    : `Successfully verified ${accessible} out of ${outcomes.size} ports`;
  return { success: accessible > 0, results, message, provider_ip: host };
}

function toVerification({ state, verified, verifyError }: ProbeOutcome): Pick<PortResult, 'verified' | 'verify_error'> {
  if (state !== 'open') return { verified: false, verify_error: 'Not accessible' };
  // A worker of a version without challenges drops the token and reports no verdict.
  if (verified === undefined) return { verified: false, verify_error: 'The worker that probed this port does not support challenges' };
  return { verified, verify_error: verified ? null : (verifyError ?? 'Challenge not received') };
}

/** What each vantage found, by its name, and the counts of the agreement. */
function toConsensus({ vantages, asked, answered, agree, required }: Consensus, challenged: boolean): Pick<PortResult, 'vantages' | 'agreement'> {
  return {
    vantages: Object.fromEntries(
      vantages.map(({ vantage, status, outcome }): [string, VantageResult] => [
        vantage.id,
        {
          status,
          state: outcome?.state ?? null,
          error: outcome?.error ?? null,
          attempts: outcome?.attempts ?? null,
          latency_ms: outcome?.latencyMs ?? null,
          region: vantage.region,
          network: vantage.network,
          ...(challenged && outcome && { verified: outcome.state === 'open' && outcome.verified === true }),
        },
      ]),
    ),
    agreement: { asked, answered, agree, required },
  };
}

/** The answer of the Golem network's own newer checker. */
export function tlsAnswer(host: string, port: number, { valid, error, notAfter, consensus }: CheckedTls): CheckTlsResponse {
  const answer: CheckTlsResponse = { valid, error, peer: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, not_after: notAfter };
  if (!consensus) return answer;
  const { vantages, asked, answered, agree, required } = consensus;
  return {
    ...answer,
    vantages: Object.fromEntries(
      vantages.map(({ vantage, status, outcome }) => [
        vantage.id,
        { status, valid: outcome?.valid ?? null, error: outcome?.error ?? null, not_after: outcome?.notAfter ?? null },
      ]),
    ),
    agreement: { asked, answered, agree, required },
  };
}
