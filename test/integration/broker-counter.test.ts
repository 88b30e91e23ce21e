import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerCounter, type CounterQos } from '../../src/backend/broker-counter.js';
import { DeviceStore } from '../../src/backend/store.js';
import { encodeTelemetry, telemetryTopic } from '../../src/wire/reference-protocol.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The embedded backend's broker counter against a real Mosquitto: what devices publish is counted
 * per device exactly (received, duplicates, gaps), straight from the subscriber's frames, at QoS 0
 * and QoS 1, with payloads split across reads and many frames in one read; unknown devices and
 * payloads without a sequence number are counted as malformed; a restarted broker is subscribed
 * to again.
 */
describe.runIf(requireMosquitto())('BrokerCounter against Mosquitto', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(qos: CounterQos): Promise<{ broker: TestMosquitto; store: DeviceStore; counter: BrokerCounter; device: MqttClient }> {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const store = new DeviceStore('fleet-key');
    for (let i = 0; i < 50; i++) store.provision(`sn-${i}`);
    const counter = await BrokerCounter.start(store, [broker.url], undefined, qos);
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
    await counter.settle();

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
    await counter.settle();
    expect(store.countsFor(id)?.received).toBe(counter.received);
    expect(store.countsFor(id)?.maxSeq).toBe(seq - 1);
  });
});
