import { createServer, type Server, type Socket } from 'node:net';

/** How a port is held on this machine while the checker probes it. */
export type LocalBinding = 'bound' | 'in-use' | 'not-permitted' | 'error';

export interface PortBinding {
  binding: LocalBinding;
  /** The system's reason when the port could not be bound. */
  error: string | null;
}

export interface TemporaryListeners {
  /** One entry per requested port. */
  readonly bindings: ReadonlyMap<number, PortBinding>;
  /** Closes every listener and drops their connections; safe to call more than once. */
  close(): Promise<void>;
}

const BINDING_ERRORS: Record<string, LocalBinding> = { EADDRINUSE: 'in-use', EACCES: 'not-permitted', EPERM: 'not-permitted' };

/**
 * Listens on every port that is free, each listener writing `challenge` to whoever connects, so a
 * checker can tell that this machine answered. Ports already in use are left alone: they may be
 * the provider's own service. `host` left out means every interface, IPv6 and IPv4.
 */
export async function bindTemporaryListeners(
  ports: readonly number[],
  { challenge, host }: { challenge: string; host?: string | undefined },
): Promise<TemporaryListeners> {
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const bindings = new Map<number, PortBinding>();
  await Promise.all(
    ports.map(async (port) => {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => {}); // the checker hangs up with a reset once it has read the token
        socket.end(challenge);
      });
      try {
        await listen(server, port, host);
        servers.push(server);
        bindings.set(port, { binding: 'bound', error: null });
      } catch (err) {
        const { code, message } = err as NodeJS.ErrnoException;
        bindings.set(port, { binding: BINDING_ERRORS[code ?? ''] ?? 'error', error: message });
      }
    }),
  );

  let closing: Promise<void> | undefined;
  return {
    bindings: new Map(ports.map((port) => [port, bindings.get(port)!])),
    close() {
      closing ??= (async () => {
        const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
        for (const socket of sockets) socket.destroy();
        await Promise.all(closed);
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host !== undefined && { host }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
