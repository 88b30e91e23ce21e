/**
 * The balena uuid of fleetsim device `serial`, and back. On balena the supervisor draws a random
 * uuid of 32 hex characters (balena-register-device generateUniqueKey; the API also takes 62);
 * fleetsim's devices use the serial's UTF-8 bytes in hex, zero-padded to 32 or 62 characters, so
 * the balena fake can count per serial (reconciliation matches devices by serial) and a run is
 * repeatable. A serial longer than 31 bytes gets a digest instead (counted under the uuid).
 */
import { createHash } from 'node:crypto';

export function balenaUuidOf(serial: string): string {
  const hex = Buffer.from(serial, 'utf8').toString('hex');
  if (hex.length <= 32 && !hex.includes('00')) return hex.padEnd(32, '0');
  if (hex.length <= 62 && !hex.includes('00')) return hex.padEnd(62, '0');
  return createHash('sha256').update(`uuid:${serial}`).digest('hex').slice(0, 32);
}

/** The serial a uuid of balenaUuidOf encodes, or undefined for any other uuid. */
export function serialOfBalenaUuid(uuid: string): string | undefined {
  if ((uuid.length !== 32 && uuid.length !== 62) || !/^[0-9a-f]+$/.test(uuid)) return undefined;
  let hex = uuid;
  while (hex.endsWith('00')) hex = hex.slice(0, -2);
  if (hex.length % 2 !== 0 || hex.length === 0) return undefined;
  const serial = Buffer.from(hex, 'hex').toString('utf8');
  return balenaUuidOf(serial) === uuid && /^[\x20-\x7e]+$/.test(serial) ? serial : undefined;
}
