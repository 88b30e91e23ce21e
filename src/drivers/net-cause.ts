import { LOST_CLOSED_BY_BROKER, LOST_RESET, LOST_TCP_TIMEOUT, NET_REFUSED, NET_RESET, NET_TIMEOUT, NET_TLS } from './types.js';

/**
 * The pseudo-status (drivers/types.ts) of a network error, from its code: Node's errno codes
 * (ECONNREFUSED ...), undici's (UND_ERR_*) and the TLS layer's (ERR_TLS_*, ERR_SSL_*, certificate
 * codes). Anything else ended the connection without an answer, which is a reset.
 */
export function netCause(err: unknown): number {
  const code = errorCode(err);
  if (code === undefined) return NET_RESET;
  if (REFUSED.has(code)) return NET_REFUSED;
  if (TIMEOUT.has(code)) return NET_TIMEOUT;
  if (isTlsError(code)) return NET_TLS;
  return NET_RESET;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'string') return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  return e.cause !== undefined && e.cause !== err ? errorCode(e.cause) : undefined;
}

const REFUSED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const TIMEOUT: ReadonlySet<string> = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** True for an error code that means the TLS handshake or the peer's certificate failed. */
export function isTlsError(code: string | undefined): boolean {
  return code !== undefined && /^ERR_(SSL|TLS)_|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID/.test(code);
}

/**
 * Why a session whose socket closed ended (a LOST_* constant), from the last socket error seen on
 * it: none means the broker closed the connection cleanly.
 */
export function lostCause(err: unknown): number {
  if (err === null || err === undefined) return LOST_CLOSED_BY_BROKER;
  return netCause(err) === NET_TIMEOUT ? LOST_TCP_TIMEOUT : LOST_RESET;
}
