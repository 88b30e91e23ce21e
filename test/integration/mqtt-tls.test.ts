/**
 * TLS for both MQTT transports against real servers on loopback:
 * - Mosquitto with require_certificate + use_identity_as_username and a per-client ACL: a device
 *   certificate from the fleet CA connects; no certificate, or one from another CA, is refused as a
 *   TLS failure (CONNECT_TLS_FAILED, counted as errors.tls by the lifecycle), not a network error;
 * - Mosquitto with a password file and ACL patterns: a wrong password is a CONNACK refusal; a
 *   publish outside the ACL is acknowledged by Mosquitto (MQTT 3.1.1) but never delivered, which an
 *   independent subscriber sees (what the run-level reconciliation counts as lost between);
 * - a Node TLS server speaking just enough MQTT: session resumption (shared without client
 *   certificates, per device with them), SNI, and `insecure`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../../src/drivers/mqtt/index.js';
import { startLocalMosquitto, type LocalMosquitto } from '../../src/drivers/mqtt/local-mosquitto.js';
import { CONNECT_TLS_FAILED, type MqttClientKind, type MqttTransport, type TlsSettings } from '../../src/drivers/types.js';
import { createFleetCa, issueCertificate, type FleetCa, type PemIdentity } from '../../src/identity/x509.js';
import { EventLog } from '../helpers/mqtt-events.js';
import { requireMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const KINDS: MqttClientKind[] = ['lean', 'mqttjs'];
const ACL = ['user reader', 'topic read fleet/#', '', 'pattern readwrite fleet/%u/#', ''].join('\n');

let ca: FleetCa;
let rogue: FleetCa;
let server: PemIdentity;
const devices: PemIdentity[] = [];
let foreign: PemIdentity;

beforeAll(async () => {
  ca = await createFleetCa('test fleet CA');
  rogue = await createFleetCa('someone else');
  server = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1', 'localhost', 'broker.test'] });
  for (const id of ['dev-a', 'dev-b', 'reader']) devices.push(await issueCertificate(ca, id, { client: true }));
  foreign = await issueCertificate(rogue, 'dev-a', { client: true });
}, 60_000);

const opened: MqttTransport[] = [];
afterAll(async () => {
  await Promise.all(opened.map((t) => t.close()));
});

function open(kind: MqttClientKind, url: string, secure: TlsSettings): { t: MqttTransport; log: EventLog } {
  const log = new EventLog();
  const t = createMqttTransport(kind, { url, devices: 8, connectTimeoutMs: 5000, tls: secure }, log);
  opened.push(t);
  return { t, log };
}

let seq = 0;
describe.runIf(requireMosquitto())('mutual TLS against Mosquitto (require_certificate, use_identity_as_username, ACL)', () => {
  let broker: LocalMosquitto;
  beforeAll(async () => {
    broker = await startLocalMosquitto({ tls: { ca: ca.pem.cert, cert: server.cert, key: server.key, requireCertificate: true }, acl: ACL });
  });
  afterAll(() => broker?.stop());

  it.each(KINDS)('%s: a fleet-CA certificate connects; none, or a foreign one, fails as TLS (not network, not CONNACK)', async (kind) => {
    const { t, log } = open(kind, broker.url, { ca: ca.pem.cert });
    const run = seq++;
    t.connect(0, { clientId: `d0-${run}`, keepalive: 30, identity: devices[0] });
    t.connect(1, { clientId: `d1-${run}`, keepalive: 30 });
    t.connect(2, { clientId: `d2-${run}`, keepalive: 30, identity: foreign });
    await waitFor(() => log.connects.length === 3, '3 connect outcomes');
    const byDev = Object.fromEntries(log.connects.map((c) => [c.dev, c]));
    expect(byDev[0]).toEqual({ dev: 0, ok: true, code: 0 });
    expect(byDev[1]).toEqual({ dev: 1, ok: false, code: CONNECT_TLS_FAILED });
    expect(byDev[2]).toEqual({ dev: 2, ok: false, code: CONNECT_TLS_FAILED });
  });

  it.each(KINDS)('%s: a broker certificate the client does not trust fails as TLS', async (kind) => {
    const { t, log } = open(kind, broker.url, { ca: rogue.pem.cert });
    t.connect(0, { clientId: `untrusting-${seq++}`, keepalive: 30, identity: devices[0] });
    await waitFor(() => log.connects.length === 1, 'connect outcome');
    expect(log.connects[0]).toEqual({ dev: 0, ok: false, code: CONNECT_TLS_FAILED });
  });

  it('the certificate is the identity: a device may publish under its own CN only', async () => {
    const { t, log } = open('lean', broker.url, { ca: ca.pem.cert });
    const reader = await mqtt.connectAsync(broker.url, { ca: ca.pem.cert, key: devices[2].key, cert: devices[2].cert, clientId: `reader-${seq++}`, protocolVersion: 4 });
    const got: string[] = [];
    reader.on('message', (topic) => got.push(topic));
    await reader.subscribeAsync('fleet/#', { qos: 1 });
    t.connect(0, { clientId: `a-${seq++}`, keepalive: 30, identity: devices[0] });
    await waitFor(() => log.connects.length === 1 && log.connects[0].ok, 'dev-a connected');
    expect(t.publish(0, 'fleet/dev-a/telemetry', Buffer.from('own'), 1, 1)).toBe(true);
    expect(t.publish(0, 'fleet/dev-b/telemetry', Buffer.from('foreign'), 1, 2)).toBe(true);
    expect(t.publish(0, 'fleet/dev-a/telemetry', Buffer.from('own again'), 1, 3)).toBe(true);
    await waitFor(() => log.acks.length === 3 && got.length === 2, 'three PUBACKs, two deliveries');
    // Mosquitto acknowledges the refused QoS 1 publish (MQTT 3.1.1 has no way to say no) ...
    expect(log.acks.map((a) => a.token).sort()).toEqual([1, 2, 3]);
    // ... and drops it: only an independent subscriber can tell.
    expect(got).toEqual(['fleet/dev-a/telemetry', 'fleet/dev-a/telemetry']);
    await reader.endAsync(true);
  });
});

describe.runIf(requireMosquitto())('Mosquitto with a password file and per-client ACL patterns', () => {
  let broker: LocalMosquitto;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-passwd-'));
    const file = path.join(dir, 'passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', file, 'dev-a', 'secret-a']);
    execFileSync('mosquitto_passwd', ['-b', file, 'reader', 'secret-r']);
    broker = await startLocalMosquitto({ passwordFile: file, acl: ACL });
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong password is a CONNACK refusal (5: not authorized); the right one connects', async () => {
    const { t, log } = open('lean', broker.url, {});
    t.connect(0, { clientId: `pw-ok-${seq++}`, keepalive: 30, username: 'dev-a', password: 'secret-a' });
    t.connect(1, { clientId: `pw-bad-${seq++}`, keepalive: 30, username: 'dev-a', password: 'wrong' });
    await waitFor(() => log.connects.length === 2, 'two connect outcomes');
    const byDev = Object.fromEntries(log.connects.map((c) => [c.dev, c]));
    expect(byDev[0]).toEqual({ dev: 0, ok: true, code: 0 });
    expect(byDev[1]).toEqual({ dev: 1, ok: false, code: 5 });
  });

  it('a publish outside the ACL is acked but not delivered, and an independent subscriber shows it', async () => {
    const reader = await mqtt.connectAsync(broker.url, { username: 'reader', password: 'secret-r', clientId: `pw-reader-${seq++}`, protocolVersion: 4 });
    const got: string[] = [];
    reader.on('message', (topic) => got.push(topic));
    await reader.subscribeAsync('fleet/#', { qos: 1 });
    const { t, log } = open('lean', broker.url, {});
    t.connect(0, { clientId: `pw-pub-${seq++}`, keepalive: 30, username: 'dev-a', password: 'secret-a' });
    await waitFor(() => log.connects.length === 1 && log.connects[0].ok, 'connected');
    t.publish(0, 'fleet/dev-b/telemetry', Buffer.from('x'), 1, 1);
    t.publish(0, 'fleet/dev-a/telemetry', Buffer.from('y'), 1, 2);
    await waitFor(() => log.acks.length === 2 && got.length === 1, 'two acks, one delivery');
    expect(got).toEqual(['fleet/dev-a/telemetry']);
    await reader.endAsync(true);
  });
});

/** A TLS server that answers CONNECT with CONNACK 0, recording each handshake. */
async function startTlsMqttServer(opts: { requestCert: boolean }): Promise<{ url: string; handshakes: Array<{ resumed: boolean; servername: string | false; cn?: string }>; close(): Promise<void> }> {
  const handshakes: Array<{ resumed: boolean; servername: string | false; cn?: string }> = [];
  const sockets = new Set<tls.TLSSocket>();
  const srv = tls.createServer({ key: server.key, cert: server.cert, ca: ca.pem.cert, requestCert: opts.requestCert, rejectUnauthorized: opts.requestCert }, (socket) => {
    const peer = socket.getPeerCertificate();
    handshakes.push({ resumed: socket.isSessionReused(), servername: socket.servername, ...(peer && peer.subject ? { cn: String(peer.subject.CN) } : {}) });
    socket.on('data', (b) => {
      if (b[0] === 0x10) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    });
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `mqtts://127.0.0.1:${port}`, handshakes, close: () => new Promise((r) => {
      srv.close(() => r());
      for (const s of sockets) s.destroy();
    }) };
}

describe('TLS session resumption, SNI and insecure (Node TLS server)', () => {
  it.each(KINDS)('%s: without client certificates, later devices resume the session of the first', async (kind) => {
    const srv = await startTlsMqttServer({ requestCert: false });
    try {
      const { t, log } = open(kind, srv.url, { ca: ca.pem.cert, servername: 'broker.test' });
      t.connect(0, { clientId: 'r0', keepalive: 30 });
      await waitFor(() => log.connects.length === 1, 'first connect');
      // The ticket arrives just after the handshake; give it a moment by connecting the next ones after a disconnect round trip.
      t.disconnect(0);
      for (let dev = 1; dev <= 4; dev++) t.connect(dev, { clientId: `r${dev}`, keepalive: 30 });
      await waitFor(() => log.connects.length === 5, 'five connects');
      expect(log.connects.every((c) => c.ok)).toBe(true);
      expect(srv.handshakes[0].resumed).toBe(false);
      expect(srv.handshakes.slice(1).every((h) => h.resumed)).toBe(true);
      // The server name sent is the one configured, not the IP of the URL.
      expect(srv.handshakes.every((h) => h.servername === 'broker.test')).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('with client certificates, a device resumes only its own session', async () => {
    const srv = await startTlsMqttServer({ requestCert: true });
    try {
      const { t, log } = open('lean', srv.url, { ca: ca.pem.cert });
      t.connect(0, { clientId: 'a', keepalive: 30, identity: devices[0] });
      await waitFor(() => log.connects.length === 1, 'dev 0 connect');
      t.disconnect(0);
      t.connect(1, { clientId: 'b', keepalive: 30, identity: devices[1] });
      await waitFor(() => log.connects.length === 2, 'dev 1 connect');
      t.disconnect(1);
      t.connect(0, { clientId: 'a', keepalive: 30, identity: devices[0] });
      await waitFor(() => log.connects.length === 3, 'dev 0 reconnect');
      expect(srv.handshakes.map((h) => [h.cn, h.resumed])).toEqual([
        ['dev-a', false],
        ['dev-b', false],
        ['dev-a', true],
      ]);
    } finally {
      await srv.close();
    }
  });

  it('a server certificate from an unknown CA is refused unless insecure', async () => {
    const srv = await startTlsMqttServer({ requestCert: false });
    try {
      const strict = open('lean', srv.url, {});
      strict.t.connect(0, { clientId: 's', keepalive: 30 });
      const lax = open('lean', srv.url, { insecure: true });
      lax.t.connect(0, { clientId: 'l', keepalive: 30 });
      await waitFor(() => strict.log.connects.length === 1 && lax.log.connects.length === 1, 'both outcomes');
      expect(strict.log.connects[0]).toEqual({ dev: 0, ok: false, code: CONNECT_TLS_FAILED });
      expect(lax.log.connects[0]).toEqual({ dev: 0, ok: true, code: 0 });
    } finally {
      await srv.close();
    }
  });
});
