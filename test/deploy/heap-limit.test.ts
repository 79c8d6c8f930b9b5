import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_NODE_OPTIONS } from '../support/processes.js';
import { readRepoFile, readYaml } from '../support/repo.js';

/** The whole V8 heap limit, young generation included, that `nodeOptions` give the Node running this test. */
function heapLimitMb(nodeOptions: string): number {
  const script = 'process.stdout.write(String(require("node:v8").getHeapStatistics().heap_size_limit))';
  const bytes = Number(execFileSync(process.execPath, ['-e', script], { env: { NODE_OPTIONS: nodeOptions } }).toString());
  return bytes / 2 ** 20;
}

// What is not heap (code, stacks, sockets' buffers, Redis replies) needs room below the memory
// limit too; without it the kernel kills the process before V8 can collect.
const NON_HEAP_MB = 128;

describe(`the production heap limit (Node ${process.version})`, () => {
  const heapMb = heapLimitMb(PRODUCTION_NODE_OPTIONS);

  it('bounds the young generation as well as the old: Node 24 would let it grow to 192 MB', () => {
    // --max-old-space-size bounds only the old generation. Node 20 sizes the young one at 48 MB for
    // it, Node 24 at 192 MB: 100 MB more RSS under load for no CPU saved (README "Performance").
    expect(heapMb).toBeLessThanOrEqual(256 + 48);
  });

  it('is what `pnpm start` gives the apps too', () => {
    // The images and the units are held to the same constant in dockerfile.test.ts and systemd.test.ts.
    expect(readRepoFile('scripts/start.mjs')).toContain(`const PRODUCTION_NODE_OPTIONS = '${PRODUCTION_NODE_OPTIONS}';`);
  });

  it('leaves room below the memory limits of the compose services and the systemd units', () => {
    const compose = readYaml<{ 'x-app': { mem_limit: string } }>('docker-compose.yml');
    const limits = [
      Number.parseInt(compose['x-app'].mem_limit, 10),
      ...['deploy/systemd/golem-port-checker-api.service', 'deploy/systemd/golem-port-checker-worker@.service'].map((unit) =>
        Number(/^MemoryMax=(\d+)M$/m.exec(readRepoFile(unit))![1]),
      ),
    ];
    for (const limitMb of limits) expect(limitMb - heapMb).toBeGreaterThanOrEqual(NON_HEAP_MB);
  });
});
