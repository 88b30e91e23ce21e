import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { prepareTarget, type PreparedTarget } from '../../src/engine/target-setup.js';
import { sessionsIn } from '../../src/scenario/session-load.js';
import { requireMosquitto } from '../helpers/mosquitto.js';

/**
 * Local brokers each serve one contiguous range of the devices, balanced by sessions held at once,
 * so that a shard's devices sit on one or two brokers (drivers/mqtt/broker-devices.ts). With
 * sleepy trackers first and standing gateways after, an even split by device count would put
 * nearly every session on the last broker.
 */
const mixed = `
name: it-broker-ranges
duration: 10s
target: { mqtt: local-mosquitto, brokers: 3 }
fleet:
  - { profile: nrf9160-tracker, count: 900, link: lte-m, session: per-report }
  - { profile: rpi4-gateway, count: 300, link: ethernet }
arrival: { rate: 1000/s }
behaviour:
  telemetry: { every: 10m, qos: 1 }
`;

let prepared: PreparedTarget | undefined;
afterEach(async () => {
  await prepared?.close();
  prepared = undefined;
});

describe.runIf(requireMosquitto())('device ranges of local brokers', () => {
  it.each([
    ['the whole fleet', { firstDevice: 0, count: 1200 }],
    ['the slice of --shard 2/2', { firstDevice: 600, count: 600 }],
  ])('cover %s contiguously, one range per broker, with the sessions balanced', async (_name, here) => {
    const s = parseScenarioText(mixed, 'it-broker-ranges.yaml');
    prepared = await prepareTarget(s, () => {}, here);
    const { mqttUrl, brokerRanges } = prepared.target;
    expect(Array.isArray(mqttUrl) ? mqttUrl.length : 1).toBe(3);
    expect(brokerRanges).toHaveLength(3);
    const ranges = brokerRanges ?? [];
    let next = here.firstDevice;
    for (const r of ranges) {
      expect(r.firstDevice).toBe(next);
      next += r.count;
    }
    expect(next).toBe(here.firstDevice + here.count);
    const sessions = ranges.map((r) => sessionsIn(s, r.firstDevice, r.count));
    const total = sessionsIn(s, here.firstDevice, here.count);
    for (const n of sessions) expect(Math.abs(n - total / 3)).toBeLessThanOrEqual(total * 0.1 + 2);
  });
});
