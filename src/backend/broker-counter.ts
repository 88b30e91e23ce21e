import mqtt, { type MqttClient } from 'mqtt';
import { TOPIC_ROOT, topicDeviceId } from '../wire/reference-protocol.js';
import type { DeviceStore } from './store.js';

/** TLS of a counting subscriber: what to trust, and its client certificate when the broker requires one. */
export interface CounterTls {
  ca?: string;
  key?: string;
  cert?: string;
  servername?: string;
  insecure?: boolean;
}

/**
 * Counts telemetry that devices publish to an external broker (a local Mosquitto, say), so the
 * embedded HTTP API can still reconcile per-device counts with the simulator when it is not the
 * broker. One QoS 1 subscriber on `fleet/+/telemetry` per broker; what it receives is recorded in
 * the same per-device sequence trackers the embedded broker uses.
 *
 * A broker acknowledges a publish before it forwards it, so a reader must let the subscriber
 * catch up (`settle`) before trusting the counts.
 */
export class BrokerCounter {
  private readonly clients: MqttClient[] = [];
  private lastMessageAt = 0;
  received = 0;

  private constructor(private readonly store: DeviceStore) {}

  static async start(store: DeviceStore, urls: readonly string[], tls?: CounterTls): Promise<BrokerCounter> {
    const c = new BrokerCounter(store);
    await Promise.all(urls.map((url, i) => c.subscribe(url, i, tls)));
    return c;
  }

  private async subscribe(url: string, i: number, tls: CounterTls | undefined): Promise<void> {
    const secure = tls === undefined ? {} : { ca: tls.ca, key: tls.key, cert: tls.cert, servername: tls.servername, rejectUnauthorized: tls.insecure !== true };
    const client = mqtt.connect(url, { clientId: `fleetsim-backend-counter-${process.pid}-${i}`, clean: true, reconnectPeriod: 1000, protocolVersion: 4, ...secure });
    this.clients.push(client);
    client.on('message', (topic, payload) => {
      this.lastMessageAt = Date.now();
      this.received++;
      const id = topicDeviceId(topic);
      const rec = id === undefined ? undefined : this.store.get(id);
      this.store.countTelemetry(rec, payload);
    });
    await client.subscribeAsync(`${TOPIC_ROOT}/+/telemetry`, { qos: 1 });
  }

  /** Resolves once no message has arrived for `quietMs` (or after `maxMs`). */
  async settle(quietMs = 300, maxMs = 10_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    this.lastMessageAt = Math.max(this.lastMessageAt, Date.now());
    while (Date.now() < deadline && Date.now() - this.lastMessageAt < quietMs) await new Promise((r) => setTimeout(r, 50));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }
}
