import { afterEach, describe, expect, it } from 'vitest';
import { filteredPorts, openPorts, type Ports } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

let service: Service | undefined;
let open: Ports | undefined;
afterEach(async () => {
  await service?.stop();
  await open?.close();
  service = undefined;
  open = undefined;
});

const checkLines = (s: Service) => s.apiLogs.lines.filter((line) => line.path === '/check-ports');

describe('logs', () => {
  it('write a refused check (4xx) at info and a failed one (5xx) at error, one line each', async () => {
    service = await startService({ workers: 0, env: { PORT_CHECK_DEADLINE: '0.3' } });

    await service.check({ provider_ip: '127.0.0.1', ports: [0] });
    await service.check({ provider_ip: '127.0.0.1', ports: [7466] });

    expect(checkLines(service)).toEqual([
      expect.objectContaining({ level: 30, status: 400, code: 'INVALID_PORT', msg: 'request' }),
      expect.objectContaining({ level: 50, status: 503, code: 'CHECK_FAILED', target: '127.0.0.1', ports: 1, msg: 'request failed' }),
    ]);
  });

  it("carry the request's id from the API's line through the job ids to the worker's lines, and never a job's payload", async () => {
    service = await startService();
    open = await openPorts(2);

    const answer = await service.check({ provider_ip: '127.0.0.1', ports: open.ports });
    const requestId = answer.headers.get('x-request-id')!;

    expect(checkLines(service)).toEqual([expect.objectContaining({ reqId: requestId, status: 200, outcome: 'ok' })]);
    const probeLines = service.workerLogs.lines.filter((line) => line.msg === 'probe finished');
    expect(probeLines).toHaveLength(2);
    for (const line of probeLines) {
      expect(line).toMatchObject({ name: 'worker', jobId: expect.stringMatching(new RegExp(`^${requestId}-\\d+$`)), state: 'open', attempts: 1 });
    }
    const written = JSON.stringify(service.workerLogs.lines);
    for (const key of ['"data"', '"deadline"', '"timeoutMs"', '"retryRefused"']) expect(written).not.toContain(key);
  });

  it('name, in the line of a check that shared another check\'s probe, that job, whose worker lines its id finds', async () => {
    service = await startService({ env: { PORT_CHECK_TIMEOUT: '0.5', PORT_CHECK_RETRIES: '1' } });
    open = await filteredPorts(1);
    const [port] = open.ports;

    // Both in flight for the probe's 0.5 s: whichever comes second waits for the first's job.
    const answers = await Promise.all([1, 2].map(() => service!.check({ provider_ip: '127.0.0.1', ports: [port!] })));

    const ids = answers.map((answer) => answer.headers.get('x-request-id')!);
    const lines = checkLines(service);
    const sharing = lines.filter((line) => line.joined !== undefined);
    expect(sharing).toHaveLength(1);
    const owner = ids.find((id) => id !== sharing[0]!.reqId)!;
    expect(sharing[0]!.joined).toEqual([`${owner}-${port}`]);
    const probeLines = service.workerLogs.lines.filter((line) => line.msg === 'probe finished');
    expect(probeLines).toEqual([expect.objectContaining({ jobId: `${owner}-${port}`, state: 'filtered' })]);
  });
});
