import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type Host = '127.0.0.1' | '::1';

export interface Ports {
  ports: number[];
  close(): Promise<void>;
}

async function listen(host: Host, port = 0): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  server.listen({ host, port });
  await once(server, 'listening');
  return server;
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;
const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

export async function freePort(host: Host = '127.0.0.1'): Promise<number> {
  const [port] = await closedPorts(1, host);
  return port!;
}

/** Listeners that accept and hang up at once. */
export async function openPorts(count: number, host: Host = '127.0.0.1'): Promise<Ports> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(host)));
  return { ports: servers.map(portOf), close: async () => void (await Promise.all(servers.map(closeServer))) };
}

/** Starts listening on a port chosen earlier, e.g. one that was closed during a first attempt. */
export async function openPortAt(port: number, host: Host = '127.0.0.1'): Promise<Ports> {
  const server = await listen(host, port);
  return { ports: [port], close: () => closeServer(server) };
}

/** Connects, reads until the other side hangs up, and returns what it sent. */
export async function readFrom(port: number, host: Host = '127.0.0.1'): Promise<string> {
  const socket = connect({ host, port });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await once(socket, 'end');
  socket.destroy();
  return received;
}

/** Ports nothing listens on: connects are refused. */
export async function closedPorts(count: number, host: Host = '127.0.0.1'): Promise<number[]> {
  const { ports, close } = await openPorts(count, host);
  await close();
  return ports;
}

/**
 * Free ports for the CLI to bind on every interface: below Linux's ephemeral range (32768+), so
 * no outgoing connection (a probe, Redis, HTTP) takes one between this call and the CLI's bind.
 */
export async function bindablePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(port)) continue;
    const server = createServer();
    server.listen({ port, host: '::' }); // dual-stack: as the CLI binds
    const [error] = await Promise.race([once(server, 'listening').then(() => [null]), once(server, 'error')]);
    if (!error) ports.push(port);
    await closeServer(server).catch(() => {});
  }
  return ports;
}

/**
 * Ports whose connects time out. A worker thread listens with backlog 1 and then blocks, so
 * it never accepts; once its accept queues hold backlog + 1 connections the kernel drops
 * every further SYN, as a firewall would.
 */
export async function filteredPorts(count: number, host: Host = '127.0.0.1'): Promise<Ports> {
  const gate = new SharedArrayBuffer(4);
  const thread = new Worker(fileURLToPath(new URL('./filtered-ports.thread.mjs', import.meta.url)), {
    workerData: { host, count, gate },
  });
  const [ports] = (await once(thread, 'message')) as [number[]];
  const fillers: Socket[] = [];
  for (const port of ports) {
    for (let i = 0; i < 2; i += 1) {
      const socket = connect({ host, port });
      fillers.push(socket);
      await once(socket, 'connect');
    }
  }
  return {
    ports,
    async close() {
      for (const socket of fillers) socket.destroy();
      const exited = once(thread, 'exit');
      const flag = new Int32Array(gate);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await exited;
    },
  };
}
