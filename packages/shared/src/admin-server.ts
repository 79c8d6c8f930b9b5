import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface AdminServer {
  /** e.g. http://127.0.0.1:9101/metrics */
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * The admin listener of an app: GET /metrics for Prometheus, 404 otherwise. Apart from the
 * API's public port, on loopback unless the operator says otherwise: metrics tell a stranger
 * the load and the backlog, and every scrape costs the app work.
 */
export async function startAdminServer(registry: Registry, host: string, port: number): Promise<AdminServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: { code: 'NOT_FOUND', message: 'only GET /metrics is served here' } }));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const hostname = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    metricsUrl: `http://${hostname}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
