import { z } from 'zod';
import { Agreement, Port, PortState, VantageResult } from '@port-checker/contract';

/** The `--json` output of `port-checker verify`, one object on stdout. */
export const VerifiedPort = z.strictObject({
  port: Port,
  local: z
    .enum(['bound', 'in-use', 'not-permitted', 'error'])
    .describe('bound: a temporary listener that answers the challenge; in-use: left to whatever holds it'),
  local_error: z.string().nullable().describe('why the port could not be bound'),
  reachable: z
    .boolean()
    .describe('accessible, and for a port bound here also verified (unless the checker does not support challenges)'),
  accessible: z.boolean(),
  state: PortState,
  verified: z.boolean().nullable().describe('null: a port held by another program, or a checker without challenge support'),
  verify_error: z.string().nullable(),
  latency_ms: z.number().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int().min(0),
  // Only from a checker that probes from several vantages, as it answered them.
  vantages: z.record(z.string(), VantageResult).optional().describe('only from a checker with several vantages: what each one found, by name'),
  agreement: Agreement.optional().describe('only with vantages: how many were asked, answered, agree, and must agree'),
});
export type VerifiedPort = z.infer<typeof VerifiedPort>;

export const ServerAttemptReport = z.strictObject({
  server: z.string(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  elapsed_ms: z.number(),
});

export const VerifyReport = z.strictObject({
  ok: z.boolean().describe('every port is reachable'),
  server: z.string().describe('the checker that answered'),
  provider_ip: z.string().describe('the address that was checked'),
  ports: z.array(VerifiedPort),
  attempts: z.array(ServerAttemptReport).describe('every checker asked, in order; the last one answered'),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

const yesNo = (value: boolean | null): string => (value === null ? '-' : value ? 'yes' : 'no');

/** Why a port is not reachable or not verified, and why a port in use has no VERIFIED answer (not a failure). */
function noteOn(p: VerifiedPort): string {
  const bindingTrouble = p.local === 'not-permitted' || p.local === 'error' ? p.local_error : null;
  const unverified = p.accessible && p.verified === false ? p.verify_error : null;
  const inUse = p.local === 'in-use' && p.accessible ? IN_USE_NOTE : null;
  return [p.error, unverified, bindingTrouble, inUse].filter((note) => note !== null).join('; ');
}

export const IN_USE_NOTE = 'another program holds this port: reachable, checked without the challenge';

/** One vantage's line under its port: where it is, what it found. */
function vantageLine([vantage, { region, network, status, state, error, latency_ms, verified }]: [string, VantageResult]): string {
  const labels = [region, network].filter((label) => label !== null).join(', ');
  const where = labels === '' ? vantage : `${vantage} (${labels})`;
  if (status !== 'finished') return `    from ${where}: ${status.replace('_', ' ')}, not counted`;
  const found = [state, latency_ms === null ? null : `${latency_ms} ms`, verified === undefined ? null : verified ? 'verified' : 'not verified', error]
    .filter((part) => part !== null)
    .join(', ');
  return `    from ${where}: ${found}`;
}

/**
 * The report as a table for a person at a terminal. `verbose`: under each port checked from
 * several vantages, what each vantage found, and the agreement.
 */
export function formatReport(report: VerifyReport, { verbose = false }: { verbose?: boolean } = {}): string {
  const rows = report.ports.map((p) => [
    String(p.port),
    p.local.replace('-', ' '),
    yesNo(p.reachable),
    p.state,
    p.accessible ? yesNo(p.verified) : '-',
    p.latency_ms === null ? '-' : `${p.latency_ms} ms`,
    report.server,
    noteOn(p),
  ]);
  const table = [['PORT', 'LOCAL', 'REACHABLE', 'STATE', 'VERIFIED', 'LATENCY', 'SERVER', 'NOTE'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  if (verbose) {
    // Each port's row, then its vantages' lines: the header stays first.
    const [header, ...portLines] = lines;
    lines.splice(0, lines.length, header!);
    report.ports.forEach(({ vantages, agreement, state }, index) => {
      lines.push(portLines[index]!);
      if (!vantages) return;
      if (agreement) {
        const { asked, answered, agree, required } = agreement;
        const verdict = agree >= required ? `found it ${state}` : `disagree (${required} must agree)`;
        lines.push(`    ${agree} of ${answered} vantages that finished ${verdict} (${asked} asked)`);
      }
      lines.push(...Object.entries(vantages).map(vantageLine));
    });
  }

  const reachable = report.ports.filter((p) => p.reachable).length;
  const failed = report.attempts.filter((attempt) => attempt.error !== null);
  lines.push('', `${reachable} of ${report.ports.length} ports reachable at ${report.provider_ip}, checked by ${report.server}`);
  for (const attempt of failed) lines.push(`  ${attempt.server} did not answer: ${attempt.error}`);
  return `${lines.join('\n')}\n`;
}
