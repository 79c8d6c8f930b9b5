import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
// @peculiar/x509 needs the Reflect metadata API, which Node lacks.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

// Node's own WebCrypto (global since Node 19).
const { subtle } = globalThis.crypto;
x509.cryptoProvider.set(globalThis.crypto);
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

interface Issued {
  cert: string;
  key: string;
}

/** A certificate authority made for one test run; nothing trusts it unless told to. */
export interface TestCa {
  /** The CA certificate as PEM, in a file: what NODE_EXTRA_CA_CERTS takes. */
  file: string;
  /** A leaf certificate for these IP addresses, signed by this CA. */
  issue(ips: string[], validity?: { notBefore: Date; notAfter: Date }): Promise<Issued>;
  remove(): void;
}

const generateKeys = () => subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

async function pemKey(keys: CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
}

export async function createTestCa(): Promise<TestCa> {
  const caKeys = await generateKeys();
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=port-checker test CA',
    keys: caKeys,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 30 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'port-checker-ca-'));
  const file = join(dir, 'ca.pem');
  writeFileSync(file, ca.toString('pem'));

  return {
    file,
    async issue(ips, validity = { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 30 * DAY_MS) }) {
      const keys = await generateKeys();
      const leaf = await x509.X509CertificateGenerator.create({
        subject: `CN=${ips[0]}`,
        issuer: ca.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALGORITHM,
        ...validity,
        extensions: [
          new x509.BasicConstraintsExtension(false),
          new x509.SubjectAlternativeNameExtension(ips.map((value) => ({ type: 'ip' as const, value }))),
          await x509.AuthorityKeyIdentifierExtension.create(ca),
        ],
      });
      return { cert: leaf.toString('pem'), key: await pemKey(keys) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A self-signed certificate for these IPs: valid in form, trusted by nobody. */
export async function selfSigned(ips: string[]): Promise<Issued> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${ips[0]}`,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension(ips.map((value) => ({ type: 'ip' as const, value })))],
  });
  return { cert: cert.toString('pem'), key: await pemKey(keys) };
}

export interface Listener {
  port: number;
  close(): Promise<void>;
}

const portOf = (server: Server | TcpServer): number => (server.address() as { port: number }).port;

/** Stops listening and ends every connection still open (a handshake a client gave up on holds one). */
function closer(server: Server | TcpServer): () => Promise<void> {
  const sockets = new Set<{ destroy(): void }>();
  server.on('connection', (socket: { destroy(): void; once(event: 'close', listener: () => void): void }) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
}

/** A TLS server on 127.0.0.1 with this certificate; it answers nothing after the handshake. */
export async function tlsListener({ cert, key }: Issued): Promise<Listener> {
  const server = createServer({ cert, key }, (socket) => socket.end());
  server.on('tlsClientError', () => {});
  const close = closer(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: portOf(server), close };
}

/** A plain TCP server on 127.0.0.1 that answers like a plain HTTP server and hangs up. */
export async function plainHttpListener(): Promise<Listener> {
  const server = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  const close = closer(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: portOf(server), close };
}
