/**
 * MQTT 3.1.1 frames the lean transport sends. CONNECT and SUBSCRIBE are rare and variable, so
 * mqtt-packet builds them. PUBLISH, PUBACK, PINGREQ and DISCONNECT are on the hot path and have a
 * fixed shape, so they are encoded here directly into one buffer each (Buffer.allocUnsafe takes
 * small buffers from Node's shared pool, so a publish costs one slice, not one allocation).
 */
import mqttPacket from 'mqtt-packet';

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

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
  keepalive: number;
}

export function encodeConnect(f: ConnectFields): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: f.clientId,
    keepalive: f.keepalive,
    username: f.username,
    password: f.password === undefined ? undefined : Buffer.from(f.password),
  });
}

export function encodeSubscribe(packetId: number, topic: string, qos: 0 | 1): Buffer {
  return mqttPacket.generate({ cmd: 'subscribe', messageId: packetId, subscriptions: [{ topic, qos }] });
}

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/**
 * One PUBLISH frame (retain off, dup off). `packetId` is ignored for QoS 0. Returns null when the
 * message is larger than MQTT allows.
 */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, packetId: number): Buffer | null {
  const topicLength = Buffer.byteLength(topic, 'utf8');
  const remaining = 2 + topicLength + (qos === 1 ? 2 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH || topicLength > 0xffff) return null;
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  frame[0] = qos === 1 ? 0x32 : 0x30;
  let at = 1;
  let rest = remaining;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    frame[at++] = digit;
  } while (rest > 0);
  frame[at++] = topicLength >>> 8;
  frame[at++] = topicLength & 0xff;
  at += frame.write(topic, at, topicLength, 'utf8');
  if (qos === 1) {
    frame[at++] = packetId >>> 8;
    frame[at++] = packetId & 0xff;
  }
  payload.copy(frame, at);
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
