import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { TlsProbeOutcome } from '@port-checker/shared';

export interface TlsProbeOptions {
  timeoutMs: number;
  /** Must be among the certificate's IP subject alternative names. */
  expectedIp?: string | undefined;
  /** The address the connection leaves from (PORT_CHECKER_SOURCE_ADDRESS). */
  localAddress?: string | undefined;
}

// Before a handshake: what a person can act on.
const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset during the TLS handshake (is it a TLS service?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

// OpenSSL's codes for a first answer that is not a TLS record: an HTTP or SSH server, say.
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE']);

// OpenSSL's words for the verification failures seen in practice; Node gives only the code.
const UNTRUSTED: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
};

/**
 * One TLS handshake with `host:port`, judged as a browser would judge an IP address in a URL:
 * the chain verifies against the system's trust store (Node's CAs plus NODE_EXTRA_CA_CERTS),
 * the certificate has not expired, and `expectedIp` is among its IP subject alternative names.
 * Nothing is sent after the handshake; the connection closes at once. Never rejects.
 */
export function probeTls(host: string, port: number, { timeoutMs, expectedIp, localAddress }: TlsProbeOptions): Promise<TlsProbeOutcome> {
  return new Promise((resolve) => {
    // Verified below rather than by Node, so that an untrusted certificate still yields its expiry
    // and a reason; and the certificate is compared with `expectedIp` only, not with `host`.
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ...(localAddress !== undefined && { localAddress }),
    });
    const finish = (outcome: TlsProbeOutcome): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ valid: false, error: 'timed out', notAfter: null }), timeoutMs);

    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const notAfter = certificate.valid_to ? new Date(certificate.valid_to).toISOString() : null;
      const error = certificateProblem(socket.authorizationError, certificate, expectedIp);
      finish({ valid: error === null, error, notAfter });
    });
    socket.once('error', (err: TlsError) => finish({ valid: false, error: handshakeProblem(err), notAfter: null }));
  });
}

/** OpenSSL's errors carry its reason apart; their message holds source paths and codes, for nobody here. */
type TlsError = NodeJS.ErrnoException & { reason?: string };

/** One line a person can read: never OpenSSL's raw text, with its file paths and hex codes. */
export function handshakeProblem(err: TlsError): string {
  const known = err.code ? CONNECT_ERRORS[err.code] : undefined;
  if (known) return known;
  if (err.code && NOT_TLS.has(err.code)) return 'not TLS: the port answered in another protocol';
  // OpenSSL's message: <id>:error:<code>:<library>:<function>:<reason>:<file>:<line>:
  const reason = err.reason ?? /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(err.message)?.[1] ?? err.message.split('\n')[0]!;
  return `handshake failed: ${reason.slice(0, 120)}`;
}

function certificateProblem(
  authorizationError: Error | string | undefined,
  certificate: PeerCertificate,
  expectedIp: string | undefined,
): string | null {
  // Node documents an Error but gives the OpenSSL code as a string.
  const code = typeof authorizationError === 'string' ? authorizationError : (authorizationError as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'CERT_HAS_EXPIRED' || Date.parse(certificate.valid_to) <= Date.now()) return 'certificate expired';
  if (authorizationError) return `certificate not trusted: ${(code && UNTRUSTED[code]) ?? String(authorizationError)}${code ? ` (${code})` : ''}`;
  if (expectedIp !== undefined && checkServerIdentity(expectedIp, certificate) !== undefined) {
    return 'certificate does not match expected IP';
  }
  return null;
}
