// A stand-in for the single-process checker this service replaced (the Python reference cannot
// run here): node:http and net.connect in one process, no queue, no Redis, no limits, no logs.
// What HTTP and TCP alone cost per checked port in Node; added to the BullMQ floor, it gives the
// least this design (an API, a queue, a worker) can spend. Run by many-providers.ts as a child:
// it sends { url } once it listens on 127.0.0.1.
import { createServer } from 'node:http';
import { connect } from 'node:net';

const TIMEOUT_MS = 5000;

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: TIMEOUT_MS });
    const end = (accessible: boolean) => {
      socket.destroy();
      resolve(accessible);
    };
    socket.once('connect', () => end(true));
    socket.once('timeout', () => end(false));
    socket.once('error', () => end(false));
  });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const { provider_ip: host, ports } = JSON.parse(Buffer.concat(chunks).toString()) as { provider_ip: string; ports: number[] };
    const accessible = await Promise.all(ports.map((port) => probe(host, port)));
    const results = Object.fromEntries(ports.map((port, i) => [port, { accessible: accessible[i] }]));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, results }));
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send!({ url: `http://127.0.0.1:${port}` });
});
