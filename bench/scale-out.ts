// The scale-out section of `pnpm bench`: the many-providers load, 1 port per request, spread over
// 1 API process and then over 3, with one worker and then two, all on one Redis. What the design
// promises: a checked port costs the same CPU however many API processes share the load. Measured
// at one request rate for every layout (600/s unless told, about half of what this machine's 2
// cores carry): flat out, the layout with fewer processes would batch more per turn of the event
// loop, and 7 processes on 2 saturated cores would mostly measure the scheduler.
import { formatCpu, measureChecker, medianRows, type Layout, type ManyProvidersOptions, type ManyProvidersRow } from './many-providers.js';

export interface ScaleOutRow extends ManyProvidersRow {
  build: string;
  layout: Layout;
}

const LAYOUTS: Layout[] = [
  { apis: 1, workers: 1 },
  { apis: 3, workers: 1 },
  { apis: 1, workers: 2 },
  { apis: 3, workers: 2 },
];

const label = ({ apis, workers }: Layout): string => `${apis} API${apis > 1 ? 's' : ''}, ${workers} worker${workers > 1 ? 's' : ''}`;

export async function benchScaleOut(options: ManyProvidersOptions): Promise<ScaleOutRow[]> {
  const rows: ScaleOutRow[] = [];
  // Layouts (and builds, with --baseline) in turn, round after round: the machine's other load
  // changes by the minute.
  for (let round = 0; round < options.rounds; round += 1) {
    for (const layout of LAYOUTS) {
      for (const [build, cwd] of Object.entries(options.builds)) {
        const measured = await measureChecker(`${build}: ${label(layout)}`, cwd, options, layout, [1]);
        rows.push(...measured.map((row) => ({ ...row, build, layout })));
      }
    }
  }
  return rows;
}

export function formatScaleOut(all: ScaleOutRow[], rate?: number): string {
  const rows = medianRows(all) as ScaleOutRow[];
  const total = (build: string, apis: number, workers: number) =>
    rows.find((r) => r.build === build && r.layout.apis === apis && r.layout.workers === workers)?.cpuUsPerPort.total;
  const lines = [
    `| scale-out: many providers, 1 port/request, ${rate === undefined ? '64 clients flat out' : `${rate} req/s, up to 64 in flight`}, Node ${process.version} (median of rounds) | req/s | p50 | p99 | CPU µs per checked port, by process | total | 3 APIs / 1 API | failures |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const one = total(r.build, 1, r.layout.workers);
    lines.push(
      `| ${r.stack} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${formatCpu(r.cpuUsPerPort)} | ` +
        `${r.cpuUsPerPort.total!.toFixed(0)} | ${r.layout.apis > 1 && one ? `${(r.cpuUsPerPort.total! / one).toFixed(2)}×` : '-'} | ${JSON.stringify(r.failures)} |`,
    );
  }
  return lines.join('\n');
}
