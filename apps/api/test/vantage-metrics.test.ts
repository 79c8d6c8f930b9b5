import { describe, expect, it } from 'vitest';
import type { Logger } from '@port-checker/shared';
import { createApiMetrics } from '../src/observe/metrics.js';
import type { ProbeQueue } from '../src/queue/probe-queue.js';

// Only what the observer counts: the queue's gauges are not read here.
const metrics = () => createApiMetrics({} as ProbeQueue, { debug: () => {} } as unknown as Logger);
const answered = (vantages: Record<string, Record<string, number>>, split = 0) => ({
  route: '/check-ports',
  method: 'POST',
  status: '200',
  seconds: 0.1,
  kind: 'ports' as const,
  outcome: 'ok' as const,
  check: { target: '203.0.113.7', ports: 1, vantages, split },
});

describe('the vantage metrics', () => {
  it('count probes by vantage and status, and the ports whose vantages did not all agree', async () => {
    const { registry, observe } = metrics();
    observe(answered({ fra: { finished: 2 }, nyc: { finished: 1, timed_out: 1 } }, 1));
    const text = `${await registry.getSingleMetricAsString('port_checker_vantage_probes_total')}\n${await registry.getSingleMetricAsString('port_checker_vantage_split_ports_total')}`;
    expect(text).toContain('port_checker_vantage_probes_total{vantage="fra",status="finished"} 2');
    expect(text).toContain('port_checker_vantage_probes_total{vantage="nyc",status="timed_out"} 1');
    expect(text).toMatch(/^port_checker_vantage_split_ports_total 1$/m);
  });

  it('take at most 32 vantage names, then count the rest as "other": a Redis full of made-up vantages makes no series without end', async () => {
    const { registry, observe } = metrics();
    for (let i = 0; i < 40; i += 1) observe(answered({ [`v${i}`]: { finished: 1 } }));
    const text = await registry.getSingleMetricAsString('port_checker_vantage_probes_total');
    const names = new Set([...text.matchAll(/vantage="([^"]+)"/g)].map(([, name]) => name));
    expect(names.size).toBe(33);
    expect(text).toContain('port_checker_vantage_probes_total{vantage="other",status="finished"} 8');
  });
});
