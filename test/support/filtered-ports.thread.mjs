// Runs in a worker thread: listens with backlog 1 on each port, reports them, then blocks its
// event loop so that nothing is ever accepted. Once the parent fills each accept queue, the
// kernel drops further SYNs and connects time out, as they do against a firewall.
import { createServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { host, count, gate } = workerData;
const servers = [];
let listening = 0;
for (let i = 0; i < count; i += 1) {
  const server = createServer();
  servers.push(server);
  server.listen({ host, port: 0, backlog: 1 }, () => {
    listening += 1;
    if (listening < count) return;
    parentPort.postMessage(servers.map((s) => s.address().port));
    // Blocks until the parent releases the gate; the servers are closed when the thread ends.
    Atomics.wait(new Int32Array(gate), 0, 0);
    for (const s of servers) s.close();
    process.exit(0);
  });
}
