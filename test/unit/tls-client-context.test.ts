/**
 * A device's TLS context is made once from its PEM key and certificate and reused by every
 * connect (drivers/mqtt/broker-address.ts): parsing PEM per connect cost a third of a mutual-TLS
 * handshake's client CPU (bench/RESULTS.md). Against a real TLS server on loopback, the server
 * sees the device's certificate on each connect while the context stays the same object.
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientContext, connectBrokerSocket, parseBrokerUrl } from '../../src/drivers/mqtt/broker-address.js';
import { waitFor } from '../helpers/wait-for.js';
import { createFleetCa, issueCertificate, type FleetCa, type PemIdentity } from '../../src/identity/x509.js';

let ca: FleetCa;
let other: FleetCa;
let device: PemIdentity;
let server: tls.Server;
let port = 0;
const seen: string[] = [];

beforeAll(async () => {
  ca = await createFleetCa('context test CA');
  other = await createFleetCa('another CA');
  device = await issueCertificate(ca, 'dev-ctx', { client: true });
  const srv = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1'] });
  server = tls.createServer({ key: srv.key, cert: srv.cert, ca: ca.pem.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    seen.push(String(s.getPeerCertificate().subject?.CN));
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('clientContext', () => {
  it('is made once per identity and trust, and every connect of the device presents its certificate', async () => {
    const trust = { ca: ca.pem.cert };
    const first = clientContext(device, trust);
    expect(clientContext(device, trust)).toBe(first);
    // Another trust (a test reusing the identity elsewhere) gets a context of its own.
    expect(clientContext(device, { ca: other.pem.cert })).not.toBe(first);
    const address = parseBrokerUrl(`mqtts://127.0.0.1:${port}`, trust);
    const used: tls.SecureContext[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connectBrokerSocket(address, undefined, undefined, 0, device) as tls.TLSSocket;
      s.on('error', () => {});
      await waitFor(() => seen.length === i + 1, `the server saw connect ${i + 1}`);
      used.push(clientContext(device, trust));
      s.destroy();
    }
    expect(seen).toEqual(['dev-ctx', 'dev-ctx']);
    // The first connect made the context for this trust again; the second reused it.
    expect(used[1]).toBe(used[0]);
    expect(used[0]).not.toBe(first);
  });
});
