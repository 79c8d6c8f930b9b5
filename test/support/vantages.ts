import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import type { CheckPortsResponse, ErrorResponse } from '@port-checker/shared';
import { spawnApp, type AppProcess } from './processes.js';

/**
 * Three vantages on one machine: workers whose probes leave from 127.0.0.2, .3 and .4 (Linux routes
 * all of 127.0.0.0/8 to lo, so no setup is needed), as vantages in three places would be.
 */
export const VANTAGES = [
  { id: 'a', source: '127.0.0.2', region: 'eu', network: 'AS1' },
  { id: 'b', source: '127.0.0.3', region: 'eu', network: 'AS2' },
  { id: 'c', source: '127.0.0.4', region: 'us', network: 'AS3' },
] as const;


/** A worker process of vantage `vantage`, once it has said it is alive (its first heartbeat is in). */
export async function startVantage(vantage: (typeof VANTAGES)[number], env: Record<string, string>): Promise<AppProcess> {
  const worker = spawnApp('worker', {
    ...env,
    PORT_CHECKER_VANTAGE: vantage.id,
    PORT_CHECKER_VANTAGE_REGION: vantage.region,
    PORT_CHECKER_VANTAGE_NETWORK: vantage.network,
    PORT_CHECKER_SOURCE_ADDRESS: vantage.source,
  });
  await worker.waitForLine((line) => line.msg === 'worker started');
  return worker;
}

/** An API process and its URLs, once listening. */
export async function startApiProcess(env: Record<string, string>): Promise<{ api: AppProcess; url: string; metricsUrl: string }> {
  const api = spawnApp('api', env);
  const line = await api.waitForLine((entry) => entry.msg === 'api listening');
  return { api, url: String(line.url), metricsUrl: String(line.metricsUrl) };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: CheckPortsResponse & ErrorResponse;
  elapsedMs: number;
}

export async function checkPorts(url: string, body: unknown): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${url}/check-ports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Answer['body'], elapsedMs: performance.now() - started };
}

/**
 * A port that answers a challenge for every source but one: connections from `refused` are reset
 * as soon as accepted, so that vantage reaches the port but never reads the token, while the
 * others do. What a path that ends somewhere else (a NAT, a hijack) looks like from one vantage.
 */
export async function tokenExceptFrom(refused: string, token: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    if (socket.remoteAddress === refused) socket.resetAndDestroy();
    else socket.end(token);
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
