import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

export interface Connection {
  /** Everything the other side sent, as text. */
  received: string;
  /** From accept to the other side closing. */
  openMs: number;
}

export interface RecordingListener {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Resolves with the first `count` connections once each has been closed by the other side. */
  connections(count: number): Promise<Connection[]>;
  close(): Promise<void>;
}

/** A loopback listener that records what each connection sends and how long it stays open. */
export async function recordingListener(
  onSocket: (socket: Socket) => void = () => {},
  host: '127.0.0.1' | '127.0.0.2' | '::1' = '127.0.0.1',
): Promise<RecordingListener> {
  const closed: Array<Promise<Connection>> = [];
  let arrived = (): void => {};
  const server = createServer((socket) => {
    const accepted = performance.now();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', () => {}); // the probe hangs up with a reset
    closed.push(new Promise((resolve) => socket.once('close', () => resolve({ received, openMs: performance.now() - accepted }))));
    arrived();
    onSocket(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return closed.length;
    },
    async connections(count) {
      while (closed.length < count) await new Promise<void>((resolve) => (arrived = resolve));
      return Promise.all(closed.slice(0, count));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
