/**
 * A fleet's certificate authority and the certificates it issues: EC P-256 keys (Node's WebCrypto)
 * and X.509 certificates built by @peculiar/x509, a maintained TypeScript X.509 library on top
 * of WebCrypto (no hand-written ASN.1 here). It needs a Reflect metadata polyfill for its
 * dependency injection, loaded first.
 *
 * Both are loaded on first use, not with this file: loading them costs ~0.3-0.45 s of CPU per
 * thread (bench/RESULTS.md, "Provisioning CPU per device"), which every shard thread and the
 * coordinator paid at start in runs without TLS, where nothing here is called.
 */
import type * as X509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import net from 'node:net';
import { certTemplate, issueFromTemplate, templatable, type CertTemplate } from './x509-template.js';

type X509Lib = typeof X509;
let loading: Promise<X509Lib> | undefined;

/** @peculiar/x509, loaded (with its polyfill, and set to Node's WebCrypto) once per thread on first use. */
function x509Lib(): Promise<X509Lib> {
  loading ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loading;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates are valid from a day before they are made (clock skew between hosts) ... */
const BACKDATE_MS = DAY_MS;
/** ... for a year: long enough for any run, short enough to look like a real fleet's. */
const VALIDITY_MS = 365 * DAY_MS;

/** A key and certificate, both PEM (the key as PKCS#8). */
export interface PemIdentity {
  key: string;
  cert: string;
}

/** A certificate authority able to sign: its PEM identity and the loaded key. */
export interface FleetCa {
  pem: PemIdentity;
  name: string;
  key: CryptoKey;
}

function pemKey(x509: X509Lib, der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(x509: X509Lib, pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, EC_P256, true, ['sign']) as Promise<CryptoKey>;
}

let serialCounter = 0;
/** A positive serial number unique within this process: 8 random bytes and a counter. */
function serialNumber(): string {
  const rnd = webcrypto.getRandomValues(new Uint8Array(8));
  rnd[0] &= 0x7f; // positive
  rnd[0] |= 0x01; // no leading zero byte to strip
  return Buffer.from(rnd).toString('hex') + (++serialCounter).toString(16).padStart(8, '0');
}

/** A new self-signed CA named `CN=<name>`. */
export async function createFleetCa(name: string): Promise<FleetCa> {
  const x509 = await x509Lib();
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${name}`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + VALIDITY_MS),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = { key: pemKey(x509, await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), cert: cert.toString('pem') };
  return { pem, name: cert.subject, key: keys.privateKey };
}

/** A CA from its PEM key and certificate (a folder written by an earlier run, or the user's own). */
export async function loadFleetCa(pem: PemIdentity): Promise<FleetCa> {
  const x509 = await x509Lib();
  const cert = new x509.X509Certificate(pem.cert);
  return { pem, name: cert.subject, key: await importKey(x509, pem.key) };
}

/** Whether `cert` (PEM) was issued by `ca`, checked by its signature. */
export async function issuedBy(cert: string, ca: FleetCa): Promise<boolean> {
  const x509 = await x509Lib();
  const c = new x509.X509Certificate(cert);
  const issuer = new x509.X509Certificate(ca.pem.cert);
  return c.issuer === issuer.subject && (await c.verify({ publicKey: issuer.publicKey, signatureOnly: true }));
}

/**
 * A leaf certificate with a new EC P-256 key: for a device (client authentication, `CN=<commonName>`)
 * or for a server (server authentication, with `hosts` as subject alternative names). Client
 * certificates after the first of a common-name length are issued from a template of it
 * (x509-template.ts): the same fields, a fraction of the CPU.
 */
export async function issueCertificate(ca: FleetCa, commonName: string, use: { client: true } | { server: readonly string[] }): Promise<PemIdentity> {
  const now = Date.now();
  if ('client' in use && templatable(commonName)) {
    const byLength = templates.get(ca) ?? new Map<number, CertTemplate | null>();
    templates.set(ca, byLength);
    const template = byLength.get(commonName.length);
    if (template !== undefined && template !== null) {
      const { key, der } = await issueFromTemplate(template, ca, commonName, Buffer.from(serialNumber(), 'hex'), now - BACKDATE_MS, now + VALIDITY_MS);
      return { key, cert: derToPem(der) };
    }
    if (template === undefined) {
      const made = await issueWithLibrary(ca, commonName, use, now);
      byLength.set(commonName.length, certTemplate(made.der, made.fields) ?? null);
      return made.pem;
    }
  }
  return (await issueWithLibrary(ca, commonName, use, now)).pem;
}

/** Templates by CA, then by common-name length (null: that length cannot be templated). */
const templates = new WeakMap<FleetCa, Map<number, CertTemplate | null>>();

/** Whether client certificates of `ca` with common names of this length are issued from a template (tests). */
export function issuesFromTemplate(ca: FleetCa, commonNameLength: number): boolean {
  return (templates.get(ca)?.get(commonNameLength) ?? null) !== null;
}

function derToPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}

/** A leaf certificate built by @peculiar/x509, with its DER and the values a template is found by. */
async function issueWithLibrary(ca: FleetCa, commonName: string, use: { client: true } | { server: readonly string[] }, now: number) {
  const x509 = await x509Lib();
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(['client' in use ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
  ];
  if ('server' in use) {
    extensions.push(new x509.SubjectAlternativeNameExtension(use.server.map((h) => (net.isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))));
  }
  const serial = serialNumber();
  const notBefore = now - BACKDATE_MS;
  const notAfter = now + VALIDITY_MS;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${commonName}`,
    issuer: ca.name,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: EC_P256,
    extensions,
  });
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  return {
    pem: { key: pemKey(x509, await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), cert: cert.toString('pem') },
    der: Buffer.from(cert.rawData),
    fields: { serial: Buffer.from(serial, 'hex'), notBefore, notAfter, commonName, spki },
  };
}
