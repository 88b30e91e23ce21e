import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerCounter, type CounterQos } from '../../src/backend/broker-counter.js';
import { DeviceStore } from '../../src/backend/store.js';
import { encodeTelemetry, telemetryTopic } from '../../src/wire/reference-protocol.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { accountingSummary, telemetryLost } from '../../src/summary/accounting.js';
import { accountingSides } from '../../src/report/format.js';
import { decideResult } from '../../src/summary/verdict.js';
import type { RunSummary } from '../../src/summary/run-summary.js';

/**
 * The embedded backend's broker counter against a real Mosquitto: what devices publish is counted
 * per device exactly (received, duplicates, gaps), straight from the subscriber's frames, at QoS 0
 * and QoS 1, with payloads split across reads and many frames in one read; unknown devices and
 * payloads without a sequence number are counted as malformed; a restarted broker is subscribed
 * to again. settle() confirms each count (markers through the broker, Mosquitto's own count of
 * drops) and names what it could not confirm: a count the broker's queue limit cut short is
 * reported as such, never as fewer messages received.
 */
describe.runIf(requireMosquitto())('BrokerCounter against Mosquitto', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(qos: CounterQos, maxQueuedMessages?: number): Promise<{ broker: TestMosquitto; store: DeviceStore; counter: BrokerCounter; device: MqttClient }> {
    const broker = await startMosquitto({ maxQueuedMessages });
    cleanup.push(() => broker.stop());
    const store = new DeviceStore('fleet-key');
    for (let i = 0; i < 50; i++) store.provision(`sn-${i}`);
    const counter = await BrokerCounter.start(store, [broker.url], undefined, qos, true);
    cleanup.push(() => counter.close());
    const device = await mqtt.connectAsync(broker.url, { clientId: 'publisher', reconnectPeriod: 0 });
    cleanup.push(() => device.endAsync(true));
    return { broker, store, counter, device };
  }

  const publish = (c: MqttClient, id: string, seq: number, size = 200) => c.publishAsync(telemetryTopic(id), encodeTelemetry(seq, Date.now(), size), { qos: 1 });

  it.each([0, 1] as const)('counts each device exactly at QoS %i: in order, duplicated, lost, large, unknown and malformed', async (qos) => {
    const { store, counter, device } = await setup(qos);
    const id = (i: number) => DeviceStore.deviceIdFor(`sn-${i}`);
    // 40 devices x 30 in-order messages, all at once (many frames per read).
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) for (let s = 0; s < 30; s++) all.push(publish(device, id(i), s));
    // Device 40: 0..9 with 3 and 7 twice and 5 never; then 60 (leaves the inline window).
    for (const s of [0, 1, 2, 3, 3, 4, 6, 7, 7, 8, 9, 60]) all.push(publish(device, id(40), s));
    // Device 41: payloads of 200 KB, split across many reads.
    for (let s = 0; s < 5; s++) all.push(publish(device, id(41), s, 200_000));
    // Not counted per device: an unknown device, and a payload without a sequence number.
    all.push(publish(device, 'd-nobody', 0));
    all.push(device.publishAsync(telemetryTopic(id(42)), 'no sequence number', { qos: 1 }));
    await Promise.all(all);
    expect(await counter.settle()).toEqual({ dropped: 0, unconfirmed: [] });

    for (let i = 0; i < 40; i++) expect(store.countsFor(id(i))).toMatchObject({ received: 30, duplicates: 0, gaps: 0, maxSeq: 29 });
    expect(store.countsFor(id(40))).toMatchObject({ received: 10, duplicates: 2, gaps: 51, maxSeq: 60 });
    expect(store.countsFor(id(41))).toMatchObject({ received: 5, duplicates: 0, gaps: 0, maxSeq: 4 });
    expect(store.countsFor(id(42))).toMatchObject({ received: 0, maxSeq: -1 });
    expect(store.malformedTelemetry).toBe(2);
    expect(counter.received).toBe(40 * 30 + 12 + 5 + 2);
    expect(store.stats(false).totals).toMatchObject({ received: 1200 + 10 + 5, duplicates: 2, gaps: 51 });
  });

  it('subscribes again after the broker restarts, and counts what is published after', async () => {
    const { broker, store, counter } = await setup(0);
    const id = DeviceStore.deviceIdFor('sn-3');
    await broker.restart(200);
    // The publisher's session died with the broker: a new one.
    const again = await mqtt.connectAsync(broker.url, { clientId: 'publisher-2', reconnectPeriod: 0 });
    cleanup.push(() => again.endAsync(true));
    // The counter's session comes back within its reconnect period; publish until it counts.
    let seq = 0;
    await waitFor(async () => {
      await publish(again, id, seq++);
      return counter.received > 0;
    }, 'the counter to count after the restart', 15_000, 200);
    const check = await counter.settle();
    expect(store.countsFor(id)?.received).toBe(counter.received);
    expect(store.countsFor(id)?.maxSeq).toBe(seq - 1);
    // What the broker delivered while the counting session was down was not counted: said so.
    expect(check.unconfirmed).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+: the counting session was lost 1 time, /)]);
  });

  it("names what the broker dropped on the way to a counter that fell behind, instead of counting it as lost", async () => {
    // A queue of 5 messages for each subscriber, and a counter that reads nothing while a device
    // publishes 400 messages of 20 KB: the counter's socket fills, and Mosquitto drops the rest.
    const { broker, store, counter } = await setup(0, 5);
    const id = DeviceStore.deviceIdFor('sn-7');
    const published = 400;
    // The publisher runs in its own process while this one is blocked (spawnSync), so the counter
    // cannot read; it exits once every PUBACK came back: the broker accepted all 400.
    const script = `
      const mqtt = (await import('mqtt')).default;
      const c = await mqtt.connectAsync(${JSON.stringify(broker.url)}, { clientId: 'burst', reconnectPeriod: 0 });
      const pad = 'x'.repeat(20000);
      await Promise.all(Array.from({ length: ${published} }, (_, s) => c.publishAsync(${JSON.stringify(`fleet/${id}/telemetry`)}, '{"seq":' + s + ',"pad":"' + pad + '"}', { qos: 1 })));
      await c.endAsync();`;
    const burst = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 30_000 });
    expect(burst.status, burst.stderr).toBe(0);

    const check = await counter.settle();
    const received = store.countsFor(id)!.received;
    expect(received).toBeLessThan(published); // the broker did drop some on the way to the counter
    // Mosquitto's own count: every message it accepted was counted or dropped, none unaccounted.
    expect(check.dropped).toBe(published - received);
    expect(check.unconfirmed).toEqual([]);

    // The run's accounting: the device had all 400 acknowledged. The backend's side names the
    // drops under their cause and loses nothing in between; the identity holds.
    const acc = accountingSummary([{ generated: published, acked: published }], { received, duplicates: 0, gaps: store.countsFor(id)!.gaps, uncounted: check.dropped, unconfirmed: check.unconfirmed });
    expect(acc.holds).toBe(true);
    expect(acc.backend).toMatchObject({ received, uncounted: published - received, lostBetween: 0, arrivedUnacknowledged: 0 });
    expect(telemetryLost(acc)).toBe(0);
    const sides = accountingSides({ accounting: acc, run: { clock: 'wall' } } as unknown as RunSummary).join('\n');
    expect(sides).toContain(`${published - received} reached the broker but it dropped them on their way to the backend's counter`);
    expect(sides).toContain('lost between simulator and backend 0.');
  });

  it('says a count is not confirmed when the broker never returns its marker, and does not judge telemetry.lost on it', async () => {
    const { broker, counter } = await setup(0);
    broker.freeze(); // the socket stays open, nothing is answered
    const check = await counter.settle(600);
    expect(check.unconfirmed).toEqual([expect.stringMatching(/: the counter's marker did not come back within 0.6 s/)]);
    const acc = accountingSummary([{ generated: 10, acked: 10 }], { received: 4, duplicates: 0, gaps: 6, uncounted: check.dropped, unconfirmed: check.unconfirmed });
    expect(acc.backend!.lostBetween).toBe(6); // an upper bound now, and said so
    const lost = { metric: 'telemetry.lost', expression: 'count == 0', value: 6, display: '6', ok: false };
    const r = decideResult({ status: 'completed', thresholds: [lost], shardsReported: 1, expectedShards: 1, generator: [], sendSide: [], accountingHolds: true, backendCountUnconfirmed: acc.backend!.unconfirmed, errors: [] });
    expect(r.verdict).toBe('invalid');
    expect(r.reasons.join('\n')).toMatch(/not judged, because of the backend's count: telemetry.lost/);
  });
});
