import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { DeviceTable } from '../../src/fleet/device-table.js';
import { buildDeviceModels } from '../../src/engine/shard/device-models.js';
import { telemetryPayloads } from '../../src/engine/shard/telemetry-payloads.js';
import { expectBackendReconciles } from '../helpers/reconcile.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Templated telemetry end to end: devices fill a JSON template per message, the backend reads
 * each message's sequence number back from where the template puts it and reconciles per device,
 * and every payload a broker delivered is the pure function of (seed, device, seq, intended time)
 * that the virtual clock computes too: a fresh filler, built as a virtual-clock shard builds it,
 * gives the same bytes.
 */
const scenario = (target: string, clock: 'wall' | 'virtual') => `
name: it-template
seed: 11
duration: 6s
clock: ${clock}
${target}
fleet:
  - { profile: esp32-wifi-sensor, count: 20, link: wifi }
  - { profile: nrf9160-tracker, count: 10, link: lte-m }
arrival: { rate: 100/s }
behaviour:
  telemetry:
    every: 1s
    qos: 1
    template:
      epoch: "2026-06-01T00:00:00Z"
      json:
        device: "{{device.index}}"
        id: "{{device.serial}}"
        meta: { seq: "{{seq}}", time: "{{time}}", ts: "{{ts}}", up: "{{uptime}}" }
        link: { type: "{{link.type}}", rssi: "{{link.rssi}}" }
        fw: "{{firmware}}"
        temp: "{{temp}}"
        hum: "{{hum}}"
        pos: ["{{bus.lat}}", "{{bus.lon}}"]
        state: "{{state}}"
        odo: "{{odo}}"
      fields:
        temp: { sine: { min: 12, max: 28, period: 24h }, decimals: 1 }
        hum: { walk: { step: 2, min: 20, max: 90 } }
        bus: { route: { points: [[52.52, 13.405], [52.50, 13.45], [52.48, 13.40]], speed: 50km/h } }
        state: { choice: { values: [idle, run, fault], weights: [5, 4, 1] } }
        odo: { counter: { start: 1000, step: 3 } }
thresholds:
  telemetry.failed: ["count == 0"]
`;

describe.runIf(requireMosquitto())('templated telemetry against a real broker', () => {
  let broker: TestMosquitto;
  let tap: mqtt.MqttClient;
  const seen: Buffer[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
    tap = await mqtt.connectAsync(broker.url, { clientId: 'template-tap', protocolVersion: 4 });
    tap.on('message', (_topic, payload) => seen.push(Buffer.from(payload)));
    await tap.subscribeAsync('fleet/+/telemetry', { qos: 1 });
  });
  afterAll(async () => {
    await tap?.endAsync(true);
    await broker?.stop();
  });

  it('reconciles per device, and each payload is the same pure function of (device, seq, time) as on the virtual clock', async () => {
    const s = parseScenarioText(scenario(`target: { http: embedded, mqtt: "${broker.url}" }`, 'wall'), 'it-template.yaml');
    const result = await runScenario(s, { workers: 2, runId: 'it-template', collectDeviceCounts: true, drainMs: 5000 });
    expect(result.summary.accounting.holds).toBe(true);
    expect(result.summary.accounting.failed).toBe(0);
    expectBackendReconciles(result, 30);
    expect(result.summary.accounting.backend!.received).toBe(result.summary.accounting.acked);
    await waitFor(() => seen.length >= result.summary.accounting.acked, 'every acked payload at the tap', 5000);
    expect(seen.length).toBe(result.summary.accounting.acked);

    // The virtual clock's filler for the whole fleet (one shard), fresh: no walk history.
    const v = parseScenarioText(scenario('', 'virtual'), 'it-template.yaml');
    const devices = new DeviceTable(v.devices, 0);
    buildDeviceModels(v, devices);
    const filler = telemetryPayloads(v, devices, undefined, undefined)!;
    const links = new Set<string>();
    for (const payload of seen) {
      const doc = JSON.parse(payload.toString('utf8'));
      links.add(doc.link.type);
      expect(doc.id).toBe(`it-template-${doc.device}`);
      expect(doc.meta.ts).toBe(Date.parse('2026-06-01T00:00:00Z') + doc.meta.time);
      expect(filler.fill(doc.device, doc.meta.seq, doc.meta.time).toString('utf8')).toBe(payload.toString('utf8'));
    }
    expect([...links].sort()).toEqual(['lte-m', 'wifi']);
  });
});

describe('templated telemetry on the virtual clock', () => {
  it('runs with the accounting holding, and the same seed gives the same summary', async () => {
    const run = async (id: string) => (await runScenario(parseScenarioText(scenario('', 'virtual'), 'it-template.yaml'), { workers: 2, runId: id })).summary;
    const a = await run('it-template-v1');
    const b = await run('it-template-v2');
    expect(a.accounting.holds).toBe(true);
    expect(a.accounting.generated).toBeGreaterThan(100);
    expect(b.accounting).toEqual(a.accounting);
    expect(b.counters).toEqual(a.counters);
  });
});
