/**
 * Credentials kept as bytes (drivers/device-credentials.ts over collections/string-arena.ts): what
 * the backend issued comes back exactly, through re-issues that grow and compact the arena, and a
 * device's CONNECT carries exactly the credentials provisioning returned, byte for byte what the
 * lean frame encoder makes of them; re-provisioning replaces them on the wire too.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { StringArena } from '../../src/collections/string-arena.js';
import { DeviceCredentialTable } from '../../src/drivers/device-credentials.js';
import { encodeConnect } from '../../src/drivers/mqtt/lean-frames.js';
import type { DeviceCredentials, Preset } from '../../src/drivers/preset.js';
import { referencePreset } from '../../src/drivers/presets/reference.js';
import type { DriverEvents } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { waitFor } from '../helpers/wait-for.js';

const KEY = 'cred-bytes-key';
const KEEPALIVE_S = 30;

describe('DeviceCredentialTable keeps what was issued', () => {
  it('round-trips ASCII, UTF-8, surrogate pairs, expiry and extra; a re-issue replaces everything', () => {
    const preset = referencePreset({ fleetKey: KEY });
    const n = 300;
    const t = new DeviceCredentialTable(preset, n);
    const issued: DeviceCredentials[] = [];
    const serials: string[] = [];
    const make = (dev: number, round: number): DeviceCredentials => {
      const pad = 'x'.repeat((dev * 7 + round * 13) % 90); // lengths vary, so re-issues move and compact
      switch (dev % 5) {
        case 0:
          return { deviceId: `d-sn-${dev}-${round}${pad}`, secret: `k${round}${pad}` };
        case 1:
          return { deviceId: `gerät-€-${dev}`, secret: `schlüssel-${round}-${pad}`, expiresAtMs: 1_000 * round + dev };
        case 2:
          return { deviceId: `emoji-😀-${dev}`, secret: `s-${round}` }; // a surrogate pair: kept as issued
        case 3:
          return { deviceId: `t-${dev}`, secret: `${round}`, extra: { tenant: `t${round}` } };
        default:
          return { deviceId: '', secret: pad }; // empty values are values too
      }
    };
    for (let round = 0; round < 12; round++) {
      for (let dev = round % 2; dev < n; dev += 1 + (round % 3)) {
        const c = make(dev, round);
        issued[dev] = c;
        t.issue(dev, c);
        serials[dev] = round % 2 === 0 ? `fleet-a-${dev * 1000 + round}` : `serial-${dev}-${round}${'y'.repeat(round)}`;
        t.rememberSerial(dev, serials[dev]);
      }
      for (let dev = 0; dev < n; dev++) {
        const want = issued[dev];
        if (want === undefined) {
          expect(t.of(dev)).toBeUndefined();
          continue;
        }
        expect(t.of(dev)).toEqual(want);
        expect(t.authorization(dev)).toBe(preset.authorization(want));
        expect(t.telemetryTopic(dev)).toBe(preset.telemetryTopic(want));
        expect(t.serial(dev)).toBe(serials[dev]);
        expect(t.needsRenewal(dev, 1_000 * 20)).toBe(want.expiresAtMs !== undefined);
      }
    }
    // Serials `<prefix>-<n>` are kept as n under the first prefix; anything else as it was given.
    const odd = ['fleet-a-007', 'fleet-a-4294967295', 'fleet-a-4294967296', 'fleet-a-NaN', 'fleet-a-1e3', 'fleet-a-', 'fleet-b-12', 'fleet-12', 'plain', 'ünï-42'];
    odd.forEach((serial, dev) => t.rememberSerial(dev, serial));
    odd.forEach((serial, dev) => expect(t.serial(dev)).toBe(serial));
    expect(t.serial(n - 1)).toBe(serials[n - 1]);
    // `remember` adds to the credentials' extra and keeps the rest.
    t.remember(0, { version: '7' });
    expect(t.of(0)).toEqual({ ...issued[0], extra: { version: '7' } });
  });

  it('an arena value that cannot round-trip through UTF-8 is not taken', () => {
    expect(StringArena.fits('plain ascii')).toBe(true);
    expect(StringArena.fits('grüße €')).toBe(true);
    expect(StringArena.fits('lone \ud800 surrogate')).toBe(false);
    expect(StringArena.fits('€'.repeat(30_000))).toBe(false); // 90,000 UTF-8 bytes
  });
});

/** A TCP relay to the broker that keeps every byte each client connection sent, in order. */
async function startRelay(brokerPort: number): Promise<{ url: string; streams: Buffer[][]; close(): Promise<void> }> {
  const streams: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Buffer[] = [];
    streams.push(chunks);
    const broker = net.connect(brokerPort, '127.0.0.1');
    for (const s of [client, broker]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      broker.write(d);
    });
    broker.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => broker.destroy());
    broker.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    streams,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a device connects with exactly the credentials the backend issued', () => {
  let be: EmbeddedBackend | undefined;
  let driver: WireDriver | undefined;
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
  afterEach(async () => {
    await driver?.close();
    await relay?.close();
    await be?.close();
    driver = be = relay = undefined;
  });

  it('CONNECT bytes are the encoder of the issued credentials; re-provisioning replaces them', async () => {
    be = await startEmbeddedBackend({ fleetKey: KEY, mqtt: true });
    relay = await startRelay(Number(new URL(be.mqttUrl).port));
    const reference = referencePreset({ fleetKey: KEY });
    const issued: DeviceCredentials[][] = [[], []];
    // The second provisioning of a device answers with another secret (non-ASCII, so its bytes
    // are UTF-8): the backend refuses it, and the CONNECT shows it replaced the first one.
    const preset: Preset = {
      ...reference,
      decodeProvision(body, serial) {
        const c = reference.decodeProvision(body, serial)!;
        const dev = Number(serial.slice(serial.lastIndexOf('-') + 1));
        const out = issued[dev].length === 0 ? c : { ...c, secret: `${c.secret}-renewed-ключ` };
        issued[dev].push(out);
        return out;
      },
    };
    const log: Array<[string, number, number]> = [];
    const events: DriverEvents = {
      onProvisioned: (dev, s) => log.push(['provisioned', dev, s]),
      onConnected: (dev, ok, code) => log.push(['connected', dev, ok ? 0 : code]),
      onTelemetryAcked: () => {},
      onConnectionLost: () => {},
    };
    driver = new WireDriver(
      { httpUrl: be.httpUrl, mqttUrl: relay.url, preset, devices: 2, mqttClient: 'lean', http: { connections: 'pooled', poolSize: 1 }, keepaliveSec: KEEPALIVE_S, connectTimeoutMs: 5000, httpTimeoutMs: 5000 },
      events,
    );
    const d = driver;
    const connectOf = (c: DeviceCredentials): Buffer => encodeConnect({ ...reference.connectIdentity(c), keepalive: KEEPALIVE_S });
    const sentConnect = (i: number, c: DeviceCredentials): Buffer => Buffer.concat(relay!.streams[i]).subarray(0, connectOf(c).length);

    d.provision(0, 'cred-bytes-0');
    d.provision(1, 'cred-bytes-1');
    await waitFor(() => log.length === 2, 'both provisioned');
    d.connect(0);
    await waitFor(() => log.length === 3, 'device 0 connected');
    d.connect(1);
    await waitFor(() => log.length === 4, 'device 1 connected');
    expect(log.slice(2)).toEqual([
      ['connected', 0, 0],
      ['connected', 1, 0],
    ]);
    expect(sentConnect(0, issued[0][0])).toEqual(connectOf(issued[0][0]));
    expect(sentConnect(1, issued[1][0])).toEqual(connectOf(issued[1][0]));
    expect(d.deviceIdOf(1)).toBe(issued[1][0].deviceId);

    d.endSession(1);
    d.provision(1, 'cred-bytes-1');
    await waitFor(() => log.length === 5, 'device 1 provisioned again');
    d.connect(1);
    await waitFor(() => log.length === 6, 'device 1 answered');
    expect(log[5][0]).toBe('connected');
    expect(log[5][2]).not.toBe(0); // the broker refuses the secret it never issued
    expect(sentConnect(2, issued[1][1])).toEqual(connectOf(issued[1][1]));
    expect(issued[1][1].secret).not.toBe(issued[1][0].secret);
  });
});
