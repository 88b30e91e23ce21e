import { createMqttTransport } from './index.js';
import type { MqttClientKind, MqttTransport, MqttTransportEvents, TlsSettings } from '../types.js';

/**
 * One broker's transport, sized for the shard's devices on that broker only. With N brokers,
 * device g (global) uses broker g mod N, so the shard's devices on broker b are the local indices
 * dev = residue + k * N, and the transport knows device dev as slot k = floor(dev / N): each
 * transport's per-device arrays hold ~devices / N entries, not `devices` (with 14 brokers that
 * was ~7.5 MB per shard process of arrays that were 13/14 unused). The transport's callbacks
 * come back with slots and are translated to shard-local indices here.
 */
export class BrokerDevices implements MqttTransportEvents {
  readonly transport: MqttTransport;

  constructor(
    private readonly driver: MqttTransportEvents,
    opts: { url: string; devices: number; mqttClient: MqttClientKind; connectTimeoutMs: number; tls?: TlsSettings },
    private readonly stride: number,
    private readonly residue: number,
  ) {
    const devices = residue < opts.devices ? Math.ceil((opts.devices - residue) / stride) : 0;
    this.transport = createMqttTransport(opts.mqttClient, { url: opts.url, devices, connectTimeoutMs: opts.connectTimeoutMs, tls: opts.tls }, this);
  }

  onConnect(slot: number, ok: boolean, code: number): void {
    this.driver.onConnect(slot * this.stride + this.residue, ok, code);
  }

  onPublishAck(slot: number, token: number): void {
    this.driver.onPublishAck(slot * this.stride + this.residue, token);
  }

  onConnectionLost(slot: number, reason: string, cause: number): void {
    this.driver.onConnectionLost(slot * this.stride + this.residue, reason, cause);
  }

  onMessage(slot: number, topic: string, payload: Buffer): void {
    this.driver.onMessage?.(slot * this.stride + this.residue, topic, payload);
  }

  onPingResponse(slot: number): void {
    this.driver.onPingResponse?.(slot * this.stride + this.residue);
  }
}
