/**
 * Client certificates issued from a template: the first certificate of a given common-name
 * length is built by @peculiar/x509 (x509.ts); the next ones copy its to-be-signed bytes and
 * overwrite the fields that differ per certificate (serial number, validity, common name, public
 * key), which keep their lengths, then sign them with Node's crypto.sign. Every certificate still
 * has its own key pair (generated on libuv's thread pool, already PEM) and its own serial, and is
 * signed by the CA: only the per-certificate ASN.1 encoding is skipped, which cost the AWS IoT
 * fake ~8 ms of main-thread CPU per CreateKeysAndCertificate (bench/RESULTS.md, "AWS IoT CPU per
 * device"). The one piece of DER written here is the certificate's outer SEQUENCE and the
 * signature's BIT STRING (RFC 5280 §4.1.1), whose lengths follow from the signature's.
 *
 * A template is refused (the caller issues with @peculiar/x509 instead) when a field cannot be
 * found exactly once or would change length: common names that are not PrintableString, or
 * longer than a one-byte DER length; validity past 2049 (GeneralizedTime).
 */
import { createPrivateKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The bytes that differ per certificate, at fixed offsets of the template's to-be-signed part. */
export interface CertTemplate {
  /** The to-be-signed certificate (DER) to copy. */
  readonly tbs: Buffer;
  /** signatureAlgorithm, copied after the TBS as it is. */
  readonly algorithm: Buffer;
  readonly serialAt: number;
  readonly serialLength: number;
  readonly notBeforeAt: number;
  readonly notAfterAt: number;
  readonly commonNameAt: number;
  readonly commonNameLength: number;
  readonly publicKeyAt: number;
}

/** RFC 5280 PrintableString characters: the template's common name is one, so must the new be. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
/** A common name whose DER length fits one byte (short form), so the enclosing lengths never change. */
const MAX_COMMON_NAME = 64;
/** id-at-commonName (2.5.4.3) then a PrintableString tag: how the common name's value is found. */
const CN_PREFIX = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03, 0x13]);
const UTC_TIME = 0x17;
const UTC_TIME_LENGTH = 13;

/** Whether a certificate for `commonName` can be issued from a template. */
export function templatable(commonName: string): boolean {
  return commonName.length <= MAX_COMMON_NAME && PRINTABLE.test(commonName);
}

/** Reads a DER header at `at`: where its content starts and how long it is. */
function header(der: Buffer, at: number): { start: number; length: number } {
  const first = der[at + 1]!;
  if (first < 0x80) return { start: at + 2, length: first };
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + der[at + 2 + i]!;
  return { start: at + 2 + n, length };
}

/** A DER length (short or long form). */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** `needle` found exactly once in `hay` (its offset), else -1. */
function onlyIndex(hay: Buffer, needle: Buffer): number {
  const at = hay.indexOf(needle);
  return at >= 0 && hay.indexOf(needle, at + 1) < 0 ? at : -1;
}

/** UTCTime's text (YYMMDDHHMMSSZ) of a time. */
function utcTime(ms: number): string {
  return new Date(ms).toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d+Z$/, '$1$2$3$4$5$6Z');
}

/**
 * A template from a certificate made for it: `fields` are the values it was made with (the
 * serial's bytes, the validity, the common name, the subject public key as SPKI DER).
 * Undefined when a field is not found exactly once.
 */
export function certTemplate(certDer: Buffer, fields: { serial: Buffer; notBefore: number; notAfter: number; commonName: string; spki: Buffer }): CertTemplate | undefined {
  const outer = header(certDer, 0);
  const tbsHeader = header(certDer, outer.start);
  const tbsEnd = tbsHeader.start + tbsHeader.length;
  const tbs = certDer.subarray(outer.start, tbsEnd);
  const alg = header(certDer, tbsEnd);
  const algorithm = certDer.subarray(tbsEnd, alg.start + alg.length);
  const time = (ms: number) => onlyIndex(tbs, Buffer.concat([Buffer.from([UTC_TIME, UTC_TIME_LENGTH]), Buffer.from(utcTime(ms), 'latin1')]));
  const serialAt = onlyIndex(tbs, Buffer.concat([Buffer.from([0x02, fields.serial.length]), fields.serial]));
  const cn = Buffer.from(fields.commonName, 'latin1');
  const cnAt = onlyIndex(tbs, Buffer.concat([CN_PREFIX, Buffer.from([cn.length]), cn]));
  const at = { serialAt, notBeforeAt: time(fields.notBefore), notAfterAt: time(fields.notAfter), cnAt, publicKeyAt: onlyIndex(tbs, fields.spki) };
  if (Object.values(at).some((v) => v < 0)) return undefined;
  return {
    tbs: Buffer.from(tbs),
    algorithm: Buffer.from(algorithm),
    serialAt: serialAt + 2,
    serialLength: fields.serial.length,
    notBeforeAt: at.notBeforeAt + 2,
    notAfterAt: at.notAfterAt + 2,
    commonNameAt: cnAt + CN_PREFIX.length + 1,
    commonNameLength: cn.length,
    publicKeyAt: at.publicKeyAt,
  };
}

const caKeys = new WeakMap<object, KeyObject>();

/** The CA's signing key as a KeyObject, parsed once per CA. */
function caKeyOf(ca: { pem: { key: string } }): KeyObject {
  let key = caKeys.get(ca);
  if (key === undefined) caKeys.set(ca, (key = createPrivateKey(ca.pem.key)));
  return key;
}

/**
 * A certificate from `template` for `commonName` (same length, templatable) with a new P-256 key
 * pair, `serial` (the template's length) and the validity given, signed by the CA with ECDSA
 * SHA-256 (the template's signatureAlgorithm). The key is PKCS#8 PEM, the certificate DER.
 */
export async function issueFromTemplate(template: CertTemplate, ca: { pem: { key: string } }, commonName: string, serial: Buffer, notBefore: number, notAfter: number): Promise<{ key: string; der: Buffer }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const tbs = Buffer.from(template.tbs);
  serial.copy(tbs, template.serialAt, 0, template.serialLength);
  tbs.write(utcTime(notBefore), template.notBeforeAt, 'latin1');
  tbs.write(utcTime(notAfter), template.notAfterAt, 'latin1');
  tbs.write(commonName, template.commonNameAt, template.commonNameLength, 'latin1');
  publicKey.copy(tbs, template.publicKeyAt);
  const signature = sign('sha256', tbs, caKeyOf(ca));
  const bits = Buffer.concat([Buffer.from([0x03]), derLength(signature.length + 1), Buffer.from([0x00]), signature]);
  const body = tbs.length + template.algorithm.length + bits.length;
  return { key: privateKey, der: Buffer.concat([Buffer.from([0x30]), derLength(body), tbs, template.algorithm, bits]) };
}
