import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { expectBackendReconciles } from '../helpers/reconcile.js';

/**
 * The spine, end to end: YAML -> two worker shards -> real HTTP provisioning and MQTT sessions
 * against the embedded backend -> merged metrics -> summary. The simulator's per-device acked
 * counts must equal what the backend received, with no gaps and no duplicates.
 */
const scenario = (mqttClient: 'lean' | 'mqttjs') => `
name: it-200-${mqttClient}
seed: 7
duration: 8s
fleet:
  - { profile: esp32-wifi-sensor, count: 120, link: wifi }
  - { profile: rpi4-gateway, count: 80, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 1s, jitter: 10%, size: 120B, qos: 1 }
  poll: { every: 3s, jitter: 10% }
options: { mqttClient: ${mqttClient} }
thresholds:
  telemetry.ack.latency: ["p(99) < 2s"]
  provision.latency: ["p(99) < 2s"]
`;

describe.each(['lean', 'mqttjs'] as const)('200 devices against the embedded backend (%s client)', (client) => {
  it('provisions each device once and the backend received exactly what was acked, per device', async () => {
    const s = parseScenarioText(scenario(client), `it-200-${client}.yaml`);
    const result = await runScenario(s, { workers: 2, runId: `it-${client}`, collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;

    expect(summary.run.status).toBe('completed');
    expect(summary.counters['provision.ok']).toBe(200);
    expect(summary.counters['mqtt.connect.ok']).toBe(200);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.generated).toBeGreaterThan(200 * 5);
    expect(summary.accounting.failed).toBe(0);
    expect(summary.accounting.dropped).toBe(0);
    expect(summary.counters['poll.ok']).toBeGreaterThan(200);

    expectBackendReconciles(result, 200);
    expect(summary.accounting.backend!.received).toBe(summary.accounting.acked);

    // Every shard ran on one worker thread from start to end (piscina never recycled it).
    expect(result.shardThreads).toHaveLength(2);
    for (const t of result.shardThreads) {
      expect(t.start).toBeGreaterThan(0);
      expect(t.end).toBe(t.start);
    }
    // Latency on loopback: every provisioned device and every acked message has its sample, each
    // taken within the run (a unit or clock mix-up lands far outside), and the thresholds compare
    // these same histograms. Whether p(99) stays under 2 s, and whether the generator kept up
    // (else the verdict is "invalid"), depends on the CPU the box gives this file while CI runs
    // other files beside it: the verdict is not asserted here (test/unit covers how it is decided).
    const runEndUs = (8 + 5) * 1e6; // duration + drain
    for (const [metric, samples] of [['provision.latency', 200], ['telemetry.ack.latency', summary.accounting.acked]] as const) {
      const h = summary.histograms[metric].stats;
      expect(h.count, metric).toBe(samples);
      expect(h.min, metric).toBeGreaterThan(0);
      expect(h.max, metric).toBeLessThan(runEndUs);
      expect(summary.thresholds.find((t) => t.metric === metric)?.value, metric).toBe(h.p99);
    }
    // Most acks come back well within the 1 s telemetry period: a backlog that grows through the
    // run (a stalled session, acks matched late) pushes the median past it even when CPU is short.
    expect(summary.histograms['telemetry.ack.latency'].stats.p50).toBeLessThan(1_000_000);
  });
});

describe('loss in transit on the wall clock', () => {
  it('QoS 0 messages a dead link holds are never booked as sent: they are in transit, and the backend agrees', async () => {
    const s = parseScenarioText(
      `
name: it-deadlink
seed: 3
duration: 4s
fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet, netem: { loss: 100% } }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 500ms, jitter: 10%, size: 100B, qos: 0 }
`,
      'it-deadlink.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-deadlink', drainMs: 500 });
    const a = summary.accounting;
    expect(a.holds).toBe(true);
    // Every exchange crosses the dead link: the TCP handshake keeps retrying its SYN, so no device
    // ever gets a session; what they generate waits on the devices or on the link, nothing is
    // booked as sent, and nothing is lost yet (TCP has not given up within 4 s).
    expect(a.sentNoAck).toBe(0);
    expect(summary.counters['telemetry.sent']).toBe(0);
    expect(summary.counters['mqtt.connect.ok']).toBe(0);
    expect(a.generated).toBeGreaterThan(100);
    expect(a.inTransitAtEnd + a.buffered).toBe(a.generated);
    expect(a.backend!.received).toBe(0);
    expect(a.backend!.lostBetween).toBe(0);
    expect(summary.counters['link.packets_lost']).toBeGreaterThan(0);
  });
});
