import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { pickCells } from '../../src/models/correlated-outage.js';
import { Stream } from '../../src/models/rng.js';
import { airtimeOfTelemetry } from '../helpers/lorawan.js';

/** Virtual-clock runs of the device models through the whole engine (shards, merge, summary). */

describe('a cell outage on the virtual clock', () => {
  it('takes exactly the devices of the picked cells down, and all of them come back', async () => {
    const s = parseScenarioText(
      `
name: cells
seed: 41
duration: 30m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 300, link: ethernet, cells: 7 }
  - { profile: nrf9160-tracker, count: 700, link: nb-iot, cells: 13 }
arrival: { rate: 1000/s }
behaviour:
  telemetry: { every: 1m, jitter: 10%, size: 100B, qos: 1 }
  # Keepalive off: over NB-IoT's delays and retransmissions a few sessions are lost to the
  # keepalive now and then (35 in this run with the 60 s default), and their reconnects would mix
  # with the outage's; keepalive has its own tests (keepalive-both-clocks, fleet-keepalive).
  keepalive: 0s
phases:
  - { at: 10m, outage: { scope: cell, fraction: 25%, duration: 5m } }
options: { snapshotEvery: 1m }
`,
      'cells.yaml',
    );
    // The same cells the engine picks: phase 0, stream offline*1000 + phase index.
    const picked = new Set(pickCells(20, 0.25, 41, Stream.offline * 1000 + 0));
    let expected = 0;
    for (let g = 0; g < 1000; g++) {
      const cell = g < 300 ? Math.floor((g * 7) / 300) : 7 + Math.floor(((g - 300) * 13) / 700);
      if (picked.has(cell)) expected++;
    }
    expect(expected).toBeGreaterThan(0);
    const { summary, timeline } = await runScenario(s, { workers: 3, runId: 'cells' });
    const during = timeline.filter((r) => r.tMs > 10 * 60_000 && r.tMs <= 15 * 60_000);
    expect(during.length).toBe(5);
    for (const r of during) expect(r.gauges['devices.offline']).toBe(expected);
    const before = timeline.filter((r) => r.tMs <= 10 * 60_000);
    const after = timeline.filter((r) => r.tMs > 16 * 60_000);
    for (const r of [...before, ...after]) expect(r.gauges['devices.offline']).toBe(0);
    expect(summary.counters['link.down']).toBe(expected);
    expect(summary.counters['link.up']).toBe(expected);
    expect(summary.accounting.holds).toBe(true);
    // Everyone reconnected after the outage: a storm of exactly the affected devices.
    expect(summary.counters['mqtt.connection_lost'] ?? 0).toBe(0);
    expect(summary.counters['mqtt.connect.ok']).toBe(1000 + expected);
  });
});

describe('LoRaWAN duty cycle', () => {
  it('never lets a device send more often than 1% airtime allows; the excess waits, nothing is lost', async () => {
    // 12 reports a minute of 40 B at SF7 (~92 ms on air) would need ~1.8% airtime: the gate must hold them back.
    const s = parseScenarioText(
      `
name: lora
seed: 5
duration: 2h
clock: virtual
fleet:
  - { profile: lorawan-sensor, count: 50, link: lorawan }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 5s, jitter: 0%, size: 40B, qos: 1 }
options: { snapshotEvery: 10m }
`,
      'lora.yaml',
    );
    const { summary } = await runScenario(s, { workers: 2, runId: 'lora' });
    const airtime = airtimeOfTelemetry(40);
    const maxFramesPerDevice = Math.floor((2 * 3600_000) / (airtime / 0.01)) + 1;
    expect(summary.counters['telemetry.sent']).toBeLessThanOrEqual(50 * maxFramesPerDevice);
    // The gate really was the limit: devices sent close to what 1% allows, and waited often.
    expect(summary.counters['telemetry.sent']).toBeGreaterThan(50 * maxFramesPerDevice * 0.95);
    expect(summary.counters['radio.duty_cycle_wait']).toBeGreaterThan(0);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.dropped).toBe(summary.counters['telemetry.dropped']);
  });

  it('drops (and counts) payloads larger than the region allows', async () => {
    const s = parseScenarioText(
      `
name: lora-big
seed: 5
duration: 10m
clock: virtual
fleet:
  - { profile: lorawan-sensor, count: 10, link: lorawan }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 5m, jitter: 0%, size: 400B, qos: 1 }
`,
      'lora-big.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'lora-big' });
    expect(summary.counters['telemetry.generated']).toBeGreaterThan(0);
    expect(summary.counters['radio.oversize']).toBe(summary.counters['telemetry.generated']);
    expect(summary.accounting.dropped).toBe(summary.counters['telemetry.generated']);
    expect(summary.accounting.holds).toBe(true);
  });
});

describe('the link model in transit', () => {
  it('retransmits lost packets (QoS 1 arrives late, not missing) at the configured loss rate', async () => {
    const s = parseScenarioText(
      `
name: lossy
seed: 17
duration: 1h
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 200, link: ethernet, netem: { delay: 20ms, loss: 20% } }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 30s, jitter: 10%, size: 100B, qos: 1 }
options: { snapshotEvery: 5m }
`,
      'lossy.yaml',
    );
    const { summary } = await runScenario(s, { workers: 2, runId: 'lossy' });
    const a = summary.accounting;
    // Every message that left a device went through the link, whatever became of it after.
    const left = summary.counters['telemetry.sent'] + a.lostOnLink + a.inTransitAtDrop + a.inTransitAtEnd;
    const lostPackets = summary.counters['link.packets_lost'];
    // Each message needs 1 + (lost tries) packets up and as many for its acknowledgement down;
    // the share lost is the netem loss.
    const packets = 2 * left + lostPackets;
    const share = lostPackets / packets;
    const sd = Math.sqrt((0.2 * 0.8) / packets);
    expect(Math.abs(share - 0.2)).toBeLessThan(4 * sd);
    // TCP gives a connection up only after 924.6 s of retransmissions (16 losses in a row at
    // 20%: 7e-12 per message): nothing is lost on the link, nothing fails.
    expect(summary.accounting.lostOnLink).toBe(0);
    expect(summary.counters['link.messages_lost']).toBe(0);
    expect(summary.accounting.failed).toBe(0);
    // Retransmission shows in the device's end-to-end latency tail: Linux's RTO on a 40 ms round
    // trip is 40 ms + 200 ms; a message that needed one retransmission took at least 280 ms.
    const e2e = summary.histograms['telemetry.ack.latency_end_to_end'].stats;
    expect(e2e.p99).toBeGreaterThan(280_000);
    expect(e2e.p50).toBeLessThan(200_000);
    // The backend's own latency (wire to PUBACK) knows nothing of the link.
    const backend = summary.histograms['telemetry.ack.latency'].stats;
    expect(backend.count).toBe(e2e.count);
    expect(backend.p99).toBeLessThan(e2e.p99 / 4);
    expect(summary.accounting.holds).toBe(true);
  });
});

describe('failover to a backup link', () => {
  const scenario = (backup: string) => `
name: failover
seed: 23
duration: 2d
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 400, link: lte-m }
arrival: { rate: 400/s }
behaviour:
  telemetry: { every: 30m, jitter: 10%, size: 100B, qos: 1 }
  offline:
    availability: 80%
    downtime: { distribution: exponential, mean: 30m }
${backup}
options: { snapshotEvery: 10m }
`;
  const meanOfflineShare = (timeline: Array<{ gauges: Record<string, number> }>) =>
    timeline.reduce((a, r) => a + r.gauges['devices.offline'], 0) / timeline.length / 400;

  it('a second operator makes the fleet reachable almost always: 1 - (1-A1)(1-A2) with a fast switchover', async () => {
    const alone = await runScenario(parseScenarioText(scenario(''), 'alone.yaml'), { workers: 2, runId: 'alone' });
    const withBackup = await runScenario(
      parseScenarioText(scenario('    backup: { availability: 95%, downtime: { distribution: exponential, mean: 30m }, switchover: 1s }'), 'backup.yaml'),
      { workers: 2, runId: 'backup' },
    );
    expect(meanOfflineShare(alone.timeline)).toBeGreaterThan(0.17);
    expect(meanOfflineShare(alone.timeline)).toBeLessThan(0.23);
    // Independent processes: unreachable only when both are down, 0.2 x 0.05 = 1%.
    expect(meanOfflineShare(withBackup.timeline)).toBeLessThan(0.02);
    expect(withBackup.summary.counters['link.failover']).toBeGreaterThan(100);
    expect(withBackup.summary.accounting.holds).toBe(true);
  });
});
