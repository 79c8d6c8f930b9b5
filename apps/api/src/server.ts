import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { failFastOptions, type Config, type Logger } from '@port-checker/shared';
import { createApp } from './app.js';
import { createPortChecker, type PortChecker } from './port-checker.js';
import { createRateLimits } from './rate-limits.js';

export interface RunningApi {
  server: Server;
  checker: PortChecker;
  /** e.g. http://127.0.0.1:9000 */
  url: string;
  /** Stops accepting, lets in-flight checks end, then closes Redis. */
  close(): Promise<void>;
}

/** Wires config → Redis → checker → app → listen. `main` adds signals; tests call it directly. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const redis = new Redis(config.redisUrl, failFastOptions);
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  if (redis.status !== 'ready') await once(redis, 'ready');

  const checker = await createPortChecker({
    redis,
    redisUrl: config.redisUrl,
    queueName: config.queueName,
    probe: config.probe,
    deadlineMs: config.deadlineMs,
    eventsMaxLen: config.eventsMaxLen,
    overload: config.overload,
    logger,
  });
  const app = createApp({
    checker,
    logger,
    policy: { maxPorts: config.maxPorts, allowLocalIps: config.allowLocalIps, selfCheckOnly: config.security.selfCheckOnly },
    security: config.security,
    limits: createRateLimits(redis, config.security, `port-checker:${config.queueName}`),
  });
  if (config.security.trustProxy === true) {
    logger.warn('PORT_CHECKER_TRUST_PROXY=true: any client can choose its address with X-Forwarded-For');
  }
  // A client that sends its request slowly is cut off, so a few cannot hold the sockets of many.
  const server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      maxHeaderSize: 8 * 1024,
      // How often Node looks for requests past those timeouts (30 s by default).
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    server,
    checker,
    url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await checker.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
