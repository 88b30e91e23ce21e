import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { expectBackendReconciles } from '../helpers/reconcile.js';
import { requireMosquitto } from '../helpers/mosquitto.js';

/**
 * The spine against a real Mosquitto: the embedded HTTP API provisions, devices publish to local
 * Mosquitto processes that fleetsim starts on free ports, and the backend counts what the brokers
 * delivered with a subscriber. Per device, acked must equal received, with no gaps.
 */
const scenario = (brokers: number) => `
name: it-mosquitto-${brokers}
seed: 9
duration: 8s
target: { mqtt: local-mosquitto, brokers: ${brokers} }
fleet:
  - { profile: esp32-wifi-sensor, count: 120, link: wifi }
  - { profile: rpi4-gateway, count: 80, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 1s, jitter: 10%, size: 120B, qos: 1 }
  poll: { every: 3s, jitter: 10% }
thresholds:
  telemetry.ack.latency: ["p(99) < 2s"]
`;

describe.runIf(requireMosquitto())('200 devices against real Mosquitto brokers', () => {
  it.each([1, 2])('acked equals what the brokers delivered, per device (%i broker(s))', async (brokers) => {
    const s = parseScenarioText(scenario(brokers), `it-mosquitto-${brokers}.yaml`);
    const result = await runScenario(s, { workers: 2, runId: `it-mosq-${brokers}`, collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;
    expect(summary.run.target).toMatch(/local mosquitto/);
    expect(summary.counters['provision.ok']).toBe(200);
    expect(summary.counters['mqtt.connect.ok']).toBe(200);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.failed).toBe(0);
    expect(summary.accounting.generated).toBeGreaterThan(1000);
    expectBackendReconciles(result, 200);
    expect(summary.result.exitCode).toBe(0);
  });
});

/**
 * A realistic mix in one fleet: sleepy trackers (session: per-report) wake, connect, publish and
 * disconnect for each report, while gateways hold one standing session; shards are balanced by
 * sessions held at once. Everything still reconciles per device with the brokers.
 */
const mixed = `
name: it-mosquitto-mixed
seed: 11
duration: 10s
target: { mqtt: local-mosquitto, brokers: 2 }
fleet:
  - { profile: nrf9160-tracker, count: 60, link: lte-m, session: per-report }
  - { profile: rpi4-gateway, count: 40, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 2s, jitter: 10%, size: 120B, qos: 1 }
`;

describe.runIf(requireMosquitto())('sleepy trackers and standing gateways against real Mosquitto brokers', () => {
  it('trackers connect for each report and sleep again; gateways connect once; acked equals delivered', async () => {
    const s = parseScenarioText(mixed, 'it-mosquitto-mixed.yaml');
    const result = await runScenario(s, { workers: 2, runId: 'it-mosq-mixed', collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;
    expect(summary.counters['provision.ok']).toBe(100);
    expect(summary.counters['mqtt.connection_lost'] ?? 0).toBe(0);
    // ~4 reports per tracker in 10 s, each its own session (a late ack can merge two): far more
    // connects than the 100 of a fleet of standing sessions.
    expect(summary.counters['mqtt.connect.ok']).toBeGreaterThan(40 + 60 * 2);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.failed).toBe(0);
    expect(summary.accounting.generated).toBeGreaterThan(350);
    expectBackendReconciles(result, 100);
    expect(summary.result.exitCode).toBe(0);
  });
});
