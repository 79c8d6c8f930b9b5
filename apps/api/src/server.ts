import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectRedis,
  idempotent,
  runShutdownSteps,
  startAdminServer,
  watchRedisConnections,
  type Config,
  type Logger,
} from '@port-checker/shared';
import { createApp } from './app.js';
import { createApiMetrics, type ApiMetrics } from './observe/metrics.js';
import { createChecker, type Checker } from './checks/checker.js';
import { ProbeQueue } from './queue/probe-queue.js';
import { createBudgets } from './budgets/budgets.js';
import { trustProxyRisk } from './http/trust-proxy-risk.js';

export interface RunningApi {
  server: Server;
  checker: Checker;
  queue: ProbeQueue;
  /** e.g. http://127.0.0.1:9000 */
  url: string;
  /** The admin listener's, e.g. http://127.0.0.1:9001/metrics */
  metricsUrl: string;
  metrics: ApiMetrics;
  /**
   * Refuses new checks (503, and /ready 503) while those in flight end by their deadline, then
   * stops listening and closes the queue and Redis. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Wires config → Redis → checker → app → listen. `main` adds signals; tests call it directly. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const redis = connectRedis(config.redis, 'failFast');
  // Redis may come up after the API (a host booting, a compose file without healthchecks): wait
  // for it, logging each failed try, rather than crash into a restart loop.
  const startupError = (err: Error): void => logger.warn({ reason: err.message }, 'redis connection error');
  redis.on('error', startupError);
  if (redis.status !== 'ready') {
    logger.info('waiting for Redis');
    await new Promise((resolve) => redis.once('ready', resolve));
  }
  // From then on an outage is logged once, not once per reconnect attempt (see watchRedisConnections).
  const redisWatch = watchRedisConnections(logger);
  redisWatch.watch(redis, 'commands');
  redis.off('error', startupError);

  const queue = await ProbeQueue.open({
    redis,
    redisTarget: config.redis,
    queueName: config.queueName,
    deadlineMs: config.deadlineMs,
    eventsMaxLen: config.eventsMaxLen,
    logger,
    redisWatch,
  });
  const checker = createChecker({
    queue,
    probe: config.probe,
    deadlineMs: config.deadlineMs,
    // A check from several vantages is that many probes per port: one request may ask that many.
    overload: { ...config.overload, maxPortsPerRequest: config.overload.maxPortsPerRequest * config.vantages.count },
    vantages: config.vantages,
  });
  const budgets = createBudgets(redis, config.security.budgets, `port-checker:${config.queueName}`, config.deadlineMs, logger);
  const metrics = createApiMetrics(queue, logger, { redisWatch, budgets, vantages: config.vantages });
  const app = createApp({
    checker,
    queue,
    logger,
    policy: {
      maxPorts: config.maxPorts,
      allowLocalIps: config.allowLocalIps,
      denyCidrs: config.denyCidrs,
      selfCheckOnly: config.security.selfCheckOnly,
      vantages: config.vantages.count,
    },
    metrics,
    queueName: config.queueName,
    security: config.security,
    budgets,
  });
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
  // Listen for metrics first: an admin port already taken then fails the start before any check.
  const adminServer = await startAdminServer(metrics.registry, config.admin.host, config.admin.apiPort);
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const closeServer = closer(server);
  const { address, port } = server.address() as AddressInfo;
  // Judged on the address listened on (PORT_CHECKER_HOST may be a name): one line, or none.
  const trustRisk = trustProxyRisk(address, config.security.trustProxy);
  if (trustRisk !== undefined) logger.warn(trustRisk);
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    server,
    checker,
    queue,
    url: `http://${host}:${port}`,
    metricsUrl: adminServer.metricsUrl,
    metrics,
    close: idempotent(() =>
      runShutdownSteps(
        [
          // The listener stays open meanwhile, so that callers get a 503 to move on with
          // rather than a refused connection, and load balancers see /ready fail.
          { name: 'drain checks in flight', run: () => checker.drain() },
          { name: 'http server', run: closeServer },
          { name: 'admin server', run: () => adminServer.close() },
          // Closing BullMQ's connections waits for Redis to answer; it may be away for good.
          {
            name: 'job queue',
            run: () => {
              checker.close();
              return queue.close();
            },
            timeoutMs: 3000,
          },
          { name: 'redis', run: () => redis.quit().catch(() => redis.disconnect()) },
        ],
        logger,
      ),
    ),
  };
}

/**
 * Returns a function that stops listening and resolves once every connection has ended. Node
 * closes the connections idle at that moment; one busy with an answer would otherwise be kept
 * alive for its idle timeout (seconds) after it, so answers from then on close theirs.
 */
function closer(server: Server): () => Promise<void> {
  let closing = false;
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) res.setHeader('Connection', 'close');
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return () =>
    new Promise<void>((resolve) => {
      closing = true;
      // Checks in flight have ended by now; what is left is idle, or a client still slowly sending
      // a request, which would otherwise hold the shutdown for up to the request timeout.
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
    });
}

const CLOSE_GRACE_MS = 1000;
