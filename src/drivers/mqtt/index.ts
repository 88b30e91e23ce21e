/**
 * MQTT transports: a pool of MQTT 3.1.1 sessions, one per device, over one broker URL.
 *
 * - `mqttjs`: one MQTT.js client per device. The reference: every protocol corner is mqtt.js's.
 *   Costs ~15-17 KB RSS per idle session.
 * - `lean`: a minimal client with its own frame encoders, typed-array state, one shared keepalive
 *   sweep and batched writes, for 100k+ sessions per process (see bench/RESULTS.md for its cost).
 *   It loads no MQTT library, and mqtt.js is loaded only when an mqttjs transport is created, so a
 *   shard process running the lean client pays for neither (~9 MB of memory per process together).
 *
 * Both follow the MqttTransport contract in ../types.ts, and the same contract suite
 * (test/integration/mqtt-transport.contract.test.ts) runs against both on aedes and Mosquitto:
 * - connect() on a device whose session is open or opening is ignored; after close() it is ignored.
 * - connect ends in exactly one onConnect: ok, refused (CONNACK return code), or -1 (socket error,
 *   CONNACK timeout of `connectTimeoutMs`).
 * - publish() returns false, with no callback, when the device has no open session. QoS 1: exactly
 *   one onPublishAck(dev, token) or the session's single onConnectionLost. QoS 0: nothing follows.
 * - disconnect() sends DISCONNECT and ends the socket; nothing follows, not even for QoS 1 messages
 *   in flight (the caller owns those tokens). It silently cancels a connect awaiting CONNACK.
 * - close() destroys every socket, resolves when all have closed, and silences every callback.
 * - Source addresses (`localAddress`) are honoured by both.
 */
import type { MqttClientKind, MqttTransport, MqttTransportEvents, MqttTransportFactoryOptions } from '../types.js';
import { LeanMqttTransport } from './lean-transport.js';
import { MqttjsTransport } from './mqttjs-transport.js';

export function createMqttTransport(
  kind: MqttClientKind,
  opts: MqttTransportFactoryOptions,
  events: MqttTransportEvents,
): MqttTransport {
  switch (kind) {
    case 'mqttjs':
      return new MqttjsTransport(opts, events);
    case 'lean':
      return new LeanMqttTransport(opts, events);
  }
}

export { parseBrokerUrl, type BrokerAddress } from './broker-address.js';
