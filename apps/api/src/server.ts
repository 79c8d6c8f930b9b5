import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Config, Logger } from '@port-checker/shared';
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
  // Fail fast: with no offline queue a command while Redis is away rejects at once and the
  // request gets a 503, instead of waiting in memory for a reconnect.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  if (redis.status !== 'ready') await once(redis, 'ready');

  const checker = await createPortChecker({
    redis,
    redisUrl: config.redisUrl,
    queueName: config.queueName,
    probe: config.probe,
    deadlineMs: config.deadlineMs,
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
  const server = app.listen(config.port, config.host);
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
