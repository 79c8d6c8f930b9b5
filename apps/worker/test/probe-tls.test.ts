import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { plainHttpListener, type Listener } from '../../../test/support/certificates.js';
import { handshakeProblem, probeTls } from '../src/probe-tls.js';

let listener: Listener | undefined;
let server: Server | undefined;
afterEach(async () => {
  await listener?.close();
  server?.close();
  listener = server = undefined;
});

describe('probeTls says in one line of words why a handshake failed', () => {
  it('names a port that answers in another protocol (plain HTTP) as not TLS', async () => {
    listener = await plainHttpListener();
    const outcome = await probeTls('127.0.0.1', listener.port, { timeoutMs: 2000 });
    expect(outcome).toEqual({ valid: false, error: 'not TLS: the port answered in another protocol', notAfter: null });
  });

  it("gives a TLS alert's reason, with no file path or OpenSSL code", async () => {
    // A TLS server that refuses every handshake with a fatal handshake_failure alert.
    server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])));
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { error } = await probeTls('127.0.0.1', (server.address() as AddressInfo).port, { timeoutMs: 2000 });
    // OpenSSL 3.0 (Node 20) says "sslv3 alert handshake failure", 3.5 (Node 24, 26) "ssl/tls alert handshake failure".
    expect(error).toMatch(/^handshake failed: (sslv3|ssl\/tls) alert handshake failure$/);
  });

  it('keeps only the reason of an OpenSSL message that carries no separate reason', () => {
    const message = '80FC0000:error:0A000126:SSL routines:ssl3_read_n:unexpected eof while reading:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:308:\n';
    expect(handshakeProblem(Object.assign(new Error(message), { code: 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING' }))).toBe(
      'handshake failed: unexpected eof while reading',
    );
    expect(handshakeProblem(Object.assign(new Error('socket hang up\nmore'), {}))).toBe('handshake failed: socket hang up');
  });
});
