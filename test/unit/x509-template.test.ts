/**
 * Client certificates issued from a template (identity/x509-template.ts) are whole certificates
 * of their own: each parses, chains to the CA by its signature (Node's X509Certificate and
 * `openssl verify`), names its own subject, has its own serial and public key, and matches the
 * private key issued with it. A common name that cannot be templated still gets a certificate.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf } from '../../src/backend/fakes/aws-iot/provisioning.js';
import { createFleetCa, issueCertificate, issuedBy, issuesFromTemplate, type FleetCa, type PemIdentity } from '../../src/identity/x509.js';

let ca: FleetCa;
let issued: PemIdentity[];
const names = ['dev-0001', 'dev-0002', 'dev-0003'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-x509-template-'));

beforeAll(async () => {
  ca = await createFleetCa('template test CA');
  // Sequential: the first is made by @peculiar/x509 and becomes the template of the others.
  issued = [];
  for (const n of names) issued.push(await issueCertificate(ca, n, { client: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('certificates issued from a template', () => {
  it('parse, chain to the CA and carry their own subject, serial, key and validity', async () => {
    expect(issuesFromTemplate(ca, names[0]!.length)).toBe(true);
    const caCert = new X509Certificate(ca.pem.cert);
    const certs = issued.map((p) => new X509Certificate(p.cert));
    certs.forEach((c, i) => {
      expect(c.subject).toBe(`CN=${names[i]}`);
      expect(c.issuer).toBe(caCert.subject);
      expect(c.verify(caCert.publicKey)).toBe(true);
      expect(c.checkIssued(caCert)).toBe(true);
      expect(c.checkPrivateKey(createPrivateKey(issued[i]!.key))).toBe(true);
      expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
      expect(Date.parse(c.validFrom)).toBeLessThan(Date.now());
      expect(Date.parse(c.validTo)).toBeGreaterThan(Date.now());
    });
    expect(new Set(certs.map((c) => c.serialNumber)).size).toBe(names.length);
    expect(new Set(certs.map((c) => c.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'))).size).toBe(names.length);
    expect(await issuedBy(issued[2]!.cert, ca)).toBe(true);
    // The AWS IoT fake's certificate id, read from the PEM's base64 body: the SHA-256 of the DER.
    certs.forEach((c, i) => expect(certificateIdOf(issued[i]!.cert)).toBe(createHash('sha256').update(c.raw).digest('hex')));
  });

  it('pass openssl verify against the CA for client authentication', () => {
    writeFileSync(path.join(dir, 'ca.pem'), ca.pem.cert);
    const leaves = issued.map((p, i) => {
      const f = path.join(dir, `leaf${i}.pem`);
      writeFileSync(f, p.cert);
      return f;
    });
    const out = execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', path.join(dir, 'ca.pem'), ...leaves], { encoding: 'utf8' });
    expect(out.trim().split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(leaves.length);
  });

  it('a common name that is not a PrintableString is issued without a template', async () => {
    const p = await issueCertificate(ca, 'dev_0004', { client: true });
    expect(issuesFromTemplate(ca, 'dev_0004'.length)).toBe(true); // the length's template, not used for this name
    const c = new X509Certificate(p.cert);
    expect(c.subject).toBe('CN=dev_0004');
    expect(c.verify(new X509Certificate(ca.pem.cert).publicKey)).toBe(true);
  });
});
