import { createHmac, createPublicKey, randomBytes, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * Device authentication of the Mender fake, from the deviceauth device API
 * (mendersoftware/deviceauth docs/devices_api.yml, docs.mender.io/api "Device authentication"):
 * `POST /api/devices/v1/authentication/auth_requests` with `{id_data, pubkey, tenant_token}` and
 * `X-MEN-Signature` = base64 signature of the exact body bytes with the device's private key:
 * RSA PKCS#1 v1.5 over SHA-256, ECDSA over SHA-256 as ASN.1 SEQ{R,S}, or Ed25519 over the body.
 *
 * Tokens: the platform signs RS256 JWTs; the fake signs HS256 with a secret of its own (devices
 * treat the token as opaque, and HMAC keeps verification cheap at fleet scale). Claims follow the
 * platform's: `sub` (device id), `exp`, `iat`, `jti`, `iss: "Mender"`, `mender.device: true`.
 */

export type AuthCheck =
  | { ok: true; idData: string; pubkey: KeyObject; pubkeyPem: string; tenantToken: string }
  | { ok: false; status: 400 | 401; error: string };

/** Validates an auth request's shape and signature. */
export function checkAuthRequest(body: Buffer, signatureHeader: string | undefined): AuthCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'failed to decode auth request: invalid JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, status: 400, error: 'failed to decode auth request: not an object' };
  const r = doc as Record<string, unknown>;
  if (typeof r.id_data !== 'string' || r.id_data === '') return { ok: false, status: 400, error: 'missing required parameter: id_data' };
  if (typeof r.pubkey !== 'string' || r.pubkey === '') return { ok: false, status: 400, error: 'missing required parameter: pubkey' };
  if (r.tenant_token !== undefined && typeof r.tenant_token !== 'string') return { ok: false, status: 400, error: 'tenant_token must be a string' };
  const idData = canonicalIdData(r.id_data);
  if (idData === undefined) return { ok: false, status: 400, error: 'id_data must be a JSON object' };
  let pubkey: KeyObject;
  try {
    pubkey = createPublicKey(r.pubkey);
  } catch {
    return { ok: false, status: 400, error: 'cannot decode public key' };
  }
  if (signatureHeader === undefined || signatureHeader === '') return { ok: false, status: 400, error: 'missing request signature header' };
  const sig = Buffer.from(signatureHeader, 'base64');
  let good = false;
  try {
    good = verify(pubkey.asymmetricKeyType === 'ed25519' ? null : 'sha256', body, pubkey, sig);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, status: 401, error: 'signature verification failed' };
  return { ok: true, idData, pubkey, pubkeyPem: pubkey.export({ type: 'spki', format: 'pem' }).toString(), tenantToken: (r.tenant_token as string | undefined) ?? '' };
}

/** id_data with its keys sorted, so the same identity always maps to the same device. */
function canonicalIdData(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const o = v as Record<string, unknown>;
    return JSON.stringify(Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])));
  } catch {
    return undefined;
  }
}

export class TokenIssuer {
  private readonly secret = randomBytes(32);
  private static readonly HEADER = b64url(Buffer.from('{"alg":"HS256","typ":"JWT"}'));

  /** A token for `deviceId`, valid `ttlSec` seconds from `nowMs`. */
  issue(deviceId: string, nowMs: number, ttlSec: number): string {
    const iat = Math.floor(nowMs / 1000);
    const claims = { jti: randomBytes(12).toString('hex'), sub: deviceId, iat, exp: iat + ttlSec, iss: 'Mender', 'mender.device': true };
    const unsigned = `${TokenIssuer.HEADER}.${b64url(Buffer.from(JSON.stringify(claims)))}`;
    return `${unsigned}.${b64url(this.mac(unsigned))}`;
  }

  /** The device id of a valid, unexpired token; undefined otherwise. */
  subject(token: string, nowMs: number): string | undefined {
    const dot = token.lastIndexOf('.');
    if (dot < 0) return undefined;
    const unsigned = token.slice(0, dot);
    const sig = Buffer.from(token.slice(dot + 1), 'base64url');
    const want = this.mac(unsigned);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(unsigned.slice(unsigned.indexOf('.') + 1), 'base64url').toString('utf8')) as { sub?: unknown; exp?: unknown };
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
      return claims.exp * 1000 > nowMs ? claims.sub : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.secret).update(text).digest();
  }
}

function b64url(b: Buffer): string {
  return b.toString('base64url');
}
