import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { startMqttTap, type MqttTap } from '../helpers/mqtt-tap.js';
import type { TimelineRow } from '../../src/metrics/aggregate.js';

/**
 * The keepalive is the fleet's (fleet/keepalive.ts), on both clocks. On the wall clock, against the
 * embedded backend's broker behind a tap that counts the packets on the wire: every PINGREQ the
 * broker sees is one the fleet sent across its modelled link (mqtt.pings), the transport adds none
 * of its own, and idle sessions ping once per keepalive. The same scenario on the virtual clock,
 * against the modelled backend, pings as often.
 */
const KEY = 'keepalive-key';
const DEVICES = 6;
const KEEPALIVE_S = 2;

const scenario = (clock: 'wall' | 'virtual', target: string) => `name: ka-${clock}
seed: 8
duration: 5s
clock: ${clock}
target: ${target}
fleet:
  - { profile: rpi4-gateway, count: ${DEVICES}, link: ethernet }
arrival: { rate: 60/s }
behaviour:
  keepalive: ${KEEPALIVE_S}s
`;

let backend: EmbeddedBackend | undefined;
let tap: MqttTap | undefined;
afterEach(async () => {
  await tap?.close();
  await backend?.close();
  tap = undefined;
  backend = undefined;
});

describe('keepalive on both clocks', () => {
  it('idle sessions ping once per keepalive across the linked driver, the broker sees exactly those PINGREQs, and the virtual clock pings as often', async () => {
    backend = await startEmbeddedBackend({ fleetKey: KEY });
    tap = await startMqttTap(Number(new URL(backend.mqttUrl).port));
    const wall = await runScenario(parseScenarioText(scenario('wall', `{ http: "${backend.httpUrl}", mqtt: "${tap.url}", fleetKey: ${KEY} }`), 'ka-wall.yaml'), { workers: 1, runId: 'ka-wall', drainMs: 500 });
    const virtual = await runScenario(parseScenarioText(scenario('virtual', 'embedded'), 'ka-virtual.yaml'), { workers: 1, runId: 'ka-virtual' });
    const pings = wall.summary.counters['mqtt.pings'];
    // Sessions up within the first second, then one PINGREQ per 2 s of silence: two each in 5 s
    // (one when a loaded box brought a session up late), never more.
    expect(pings).toBeGreaterThanOrEqual(DEVICES);
    expect(pings).toBeLessThanOrEqual(2 * DEVICES);
    // What the broker saw: the fleet's pings and nothing more (the transport's own keepalive is
    // off), less those still on the modelled link when the run stopped (at most one per device).
    const seen = tap.fromClient.get('pingreq') ?? 0;
    expect(seen).toBeLessThanOrEqual(pings);
    expect(seen).toBeGreaterThanOrEqual(pings - DEVICES);
    expect(tap.fromBroker.get('pingresp') ?? 0).toBeLessThanOrEqual(seen);
    for (const { summary } of [wall, virtual]) {
      expect(summary.counters['mqtt.keepalive_timeouts']).toBe(0);
      expect(summary.counters['mqtt.connection_lost']).toBe(0);
      expect(summary.counters['mqtt.connect.ok']).toBe(DEVICES);
    }
    // The same shape on the virtual clock: the same pings, up to one per device at the end.
    expect(Math.abs(virtual.summary.counters['mqtt.pings'] - pings)).toBeLessThanOrEqual(DEVICES);
  }, 30_000);
});

describe('keepalive against a blackhole, virtual clock', () => {
  /** Idle devices (no reports), k = 10 s; every session blackholed from 40 s to 70 s. */
  const HOLE = `name: ka-hole
seed: 9
duration: 90s
clock: virtual
target: embedded
fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet }
arrival: { rate: 20/s }
behaviour:
  keepalive: 10s
  reconnect: { base: 1s, cap: 4s }
options: { snapshotEvery: 1s }
phases:
  - { at: 40s, for: 30s, backend: { mqtt: { blackhole: {} } } }
`;
  const lostIn = (rows: readonly TimelineRow[], fromMs: number, toMs: number) => rows.filter((r) => r.tMs > fromMs && r.tMs <= toMs).reduce((a, r) => a + (r.counters['mqtt.connection_lost'] ?? 0), 0);

  it('an idle session is dropped 1.5 keepalives after its last ping got through, before its own PINGRESP deadline; it reconnects once the partition heals', async () => {
    const { summary, timeline } = await runScenario(parseScenarioText(HOLE, 'ka-hole.yaml'), { workers: 1, runId: 'ka-hole' });
    expect(summary.accounting.holds).toBe(true);
    // Each device's last ping before the phase left in [30 s, 40 s): the broker drops it in [45 s, 55 s].
    expect(lostIn(timeline, 0, 45_000)).toBe(0);
    expect(lostIn(timeline, 45_000, 55_000)).toBe(20);
    expect(lostIn(timeline, 45_000, 50_000)).toBeGreaterThan(0); // spread by each device's last ping, not all at 40 + 15 s
    expect(summary.counters['mqtt.connection_lost']).toBe(20);
    expect(summary.counters['mqtt.keepalive_timeouts']).toBe(0);
    // Idle at k = 10 s: four pings a device before the hole, one swallowed in it, more once back.
    expect(summary.counters['mqtt.pings']).toBeGreaterThanOrEqual(20 * 4);
    const [hole] = summary.faults!.phases;
    expect(hole.recovery.affected).toBe(20);
    expect(hole.recovery.stillOut).toBe(0);
    expect(summary.counters['mqtt.connect.ok']).toBe(40); // back after 70 s
  }, 30_000);
});
