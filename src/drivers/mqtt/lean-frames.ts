/**
 * MQTT 3.1.1 frames the lean transport sends, encoded here directly: PUBLISH straight into the
 * transport's write batch (see lean-write-batch.ts), or into a buffer of its own
 * (Buffer.allocUnsafe takes small buffers from Node's shared pool, so that costs one slice, not
 * one allocation); CONNECT and SUBSCRIBE, rare, into buffers of their own. No MQTT library is
 * loaded: mqtt-packet cost every shard process ~1 MB to load plus a ~5 MB cache of number
 * buffers it builds on its first CONNECT (bench/RESULTS.md, "250,000 connected devices"). The unit tests
 * check every encoder byte for byte against mqtt-packet.
 */

import { encodeSubscribe, varintLength, writeFixedHeader } from '../../wire/mqtt-client-frames.js';
import type { MqttSubscription } from '../types.js';

/** CONNECT and SUBSCRIBE are encoded in wire/, shared with the embedded backend's broker counter. */
export { encodeConnect, encodeSubscribe, type ConnectFields } from '../../wire/mqtt-client-frames.js';

/** MQTT fixed-header packet types (the high nibble of byte 0). */
export const PacketType = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  SUBACK: 9,
  UNSUBACK: 11,
  PINGRESP: 13,
} as const;

export const PINGREQ_FRAME: Buffer = Buffer.from([0xc0, 0x00]);
export const DISCONNECT_FRAME: Buffer = Buffer.from([0xe0, 0x00]);

/** The largest remaining length MQTT can express (four varint bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * Bytes of one PUBLISH frame, given the topic's UTF-8 length; -1 when MQTT cannot carry it
 * (topic over 65,535 bytes or frame body over 256 MB).
 */
export function publishFrameLength(topicLength: number, payloadLength: number, qos: 0 | 1): number {
  const remaining = 2 + topicLength + (qos === 1 ? 2 : 0) + payloadLength;
  if (remaining > MAX_REMAINING_LENGTH || topicLength > 0xffff) return -1;
  return 1 + varintLength(remaining) + remaining;
}

/**
 * Writes one PUBLISH frame (retain off, dup off) at `buf[at]`, which must have room for
 * publishFrameLength(...) bytes. `packetId` is ignored for QoS 0. Returns the offset after it.
 */
export function writePublish(
  buf: Buffer,
  at: number,
  topic: string,
  topicLength: number,
  payload: Buffer,
  qos: 0 | 1,
  packetId: number,
): number {
  at = writeFixedHeader(buf, at, qos === 1 ? 0x32 : 0x30, 2 + topicLength + (qos === 1 ? 2 : 0) + payload.length);
  buf[at++] = topicLength >>> 8;
  buf[at++] = topicLength & 0xff;
  at += buf.write(topic, at, topicLength, 'utf8');
  if (qos === 1) {
    buf[at++] = packetId >>> 8;
    buf[at++] = packetId & 0xff;
  }
  return at + payload.copy(buf, at);
}

/** One PUBLISH frame in its own buffer; null when MQTT cannot carry it. */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, packetId: number): Buffer | null {
  const topicLength = Buffer.byteLength(topic, 'utf8');
  const length = publishFrameLength(topicLength, payload.length, qos);
  if (length < 0) return null;
  const frame = Buffer.allocUnsafe(length);
  writePublish(frame, 0, topic, topicLength, payload, qos, packetId);
  return frame;
}

export function encodePuback(packetId: number): Buffer {
  const frame = Buffer.allocUnsafe(4);
  frame[0] = 0x40;
  frame[1] = 0x02;
  frame[2] = packetId >>> 8;
  frame[3] = packetId & 0xff;
  return frame;
}

/**
 * CONNECT followed by one SUBSCRIBE per filter, in one buffer. The SUBSCRIBEs carry packet ids
 * 1..n, the ids a fresh connection hands out first: the caller reserves them on the connection.
 * Encoded before the socket exists, so a bad field throws with nothing to undo.
 */
export function connectWithSubscriptions(connectFrame: Buffer, subs: readonly MqttSubscription[]): Buffer {
  const frames: Buffer[] = [connectFrame];
  for (let i = 0; i < subs.length; i++) frames.push(encodeSubscribe(i + 1, subs[i].topic, subs[i].qos));
  return Buffer.concat(frames);
}
