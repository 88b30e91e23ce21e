import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { DeviceStore } from '../../src/backend/store.js';
import { referencePreset } from '../../src/drivers/presets/reference.js';
import type { DriverEvents } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { startAedes, type TestAedes } from '../helpers/aedes.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The wire driver over several brokers: broker b serves the contiguous global indices of
 * RANGES[b], and each broker's transport knows only that broker's devices, by an index of its
 * own. Real HTTP provisioning (embedded API) and three real aedes brokers; the shard (global
 * devices 7..17) starts inside the first range and ends inside the last, so the shard-local and
 * global boundaries differ.
 */
const FIRST = 7;
const DEVICES = 11;
const BROKERS = 3;
const RANGES = [
  { firstDevice: 0, count: 10 },
  { firstDevice: 10, count: 5 },
  { firstDevice: 15, count: 20 },
];
/** The broker serving global device g. */
const brokerOf = (g: number): number => RANGES.findIndex((r) => g >= r.firstDevice && g < r.firstDevice + r.count);

let backend: EmbeddedBackend | undefined;
let brokers: TestAedes[] = [];
let driver: WireDriver | undefined;

afterEach(async () => {
  await driver?.close();
  await Promise.all(brokers.map((b) => b.close()));
  await backend?.close();
  driver = undefined;
  brokers = [];
  backend = undefined;
});

describe('WireDriver with several brokers', () => {
  it('refuses several broker URLs without the range each serves', () => {
    const opts = { httpUrl: 'http://127.0.0.1:1', mqttUrl: ['mqtt://127.0.0.1:1', 'mqtt://127.0.0.1:2'], firstDevice: 0, preset: referencePreset({ fleetKey: 'k' }), devices: 4, mqttClient: 'lean' as const, http: { connections: 'pooled' as const, poolSize: 1 }, keepaliveSec: 30, connectTimeoutMs: 1000, httpTimeoutMs: 1000 };
    const events = { onProvisioned: () => {}, onConnected: () => {}, onTelemetryAcked: () => {}, onConnectionLost: () => {}, onPolled: () => {} };
    expect(() => new WireDriver(opts, events)).toThrow(/2 broker URLs need as many device ranges/);
    expect(() => new WireDriver({ ...opts, brokerRanges: [{ firstDevice: 0, count: 2 }, { firstDevice: 2, count: 1 }] }, events)).toThrow(/cover 3 of this shard's 4 devices/);
  });

  it('sends each device to the broker whose range holds it and reports every callback with the shard-local index', async () => {
    backend = await startEmbeddedBackend({ fleetKey: 'wd-key', mqtt: false });
    brokers = await Promise.all(Array.from({ length: BROKERS }, () => startAedes()));
    const clientsOf = brokers.map(() => new Set<string>());
    brokers.forEach((b, i) => b.broker.on('client', (c) => clientsOf[i].add(c.id)));

    const provisioned: number[] = [];
    const connected: number[] = [];
    const acked: Array<[number, number]> = [];
    const problems: string[] = [];
    const events: DriverEvents = {
      onProvisioned: (dev, status) => (status === 200 || status === 201 ? provisioned.push(dev) : problems.push(`provision ${dev}: ${status}`)),
      onConnected: (dev, ok, code) => (ok ? connected.push(dev) : problems.push(`connect ${dev}: ${code}`)),
      onTelemetryAcked: (dev, token) => acked.push([dev, token]),
      onConnectionLost: (dev, reason) => problems.push(`lost ${dev}: ${reason}`),
      onPolled: () => {},
    };
    driver = new WireDriver(
      {
        httpUrl: backend.httpUrl,
        mqttUrl: brokers.map((b) => b.url),
        brokerRanges: RANGES,
        firstDevice: FIRST,
        preset: referencePreset({ fleetKey: 'wd-key' }),
        devices: DEVICES,
        mqttClient: 'lean',
        http: { connections: 'pooled', poolSize: 2 },
        keepaliveSec: 30,
        connectTimeoutMs: 5000,
        httpTimeoutMs: 5000,
      },
      events,
    );
    const all = Array.from({ length: DEVICES }, (_, dev) => dev);
    for (const dev of all) driver.provision(dev, `wd-${dev}`);
    await waitFor(() => provisioned.length + problems.length === DEVICES, 'provisioning');
    for (const dev of all) driver.connect(dev);
    await waitFor(() => connected.length + problems.length === DEVICES, 'connects');
    expect(problems).toEqual([]);
    expect([...connected].sort((a, b) => a - b)).toEqual(all);
    expect(driver.connectedCount()).toBe(DEVICES);

    for (const dev of all) {
      const id = DeviceStore.deviceIdFor(`wd-${dev}`);
      const broker = brokerOf(FIRST + dev);
      expect(clientsOf[broker].has(id), `device ${dev} on broker ${broker}`).toBe(true);
      expect(clientsOf.filter((c) => c.has(id))).toHaveLength(1);
    }

    for (const dev of all) expect(driver.publishTelemetry(dev, 1, Date.now(), { size: 64, qos: 1 }, 100 + dev)).toBe(true);
    await waitFor(() => acked.length === DEVICES, 'acks');
    expect([...acked].sort((a, b) => a[0] - b[0])).toEqual(all.map((dev) => [dev, 100 + dev]));

    driver.disconnect(4);
    expect(driver.connectedCount()).toBe(DEVICES - 1);
    expect(driver.publishTelemetry(4, 2, Date.now(), { size: 64, qos: 1 }, 999)).toBe(false);
    expect(driver.publishTelemetry(5, 2, Date.now(), { size: 64, qos: 1 }, 105)).toBe(true);
    await waitFor(() => acked.length === DEVICES + 1, 'the last ack');
    expect(acked[DEVICES]).toEqual([5, 105]);
    expect(problems).toEqual([]);
  });
});
