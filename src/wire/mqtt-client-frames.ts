/**
 * MQTT 3.1.1 frames a client sends once per session (OASIS MQTT 3.1.1, sections 3.1 and 3.8):
 * CONNECT and SUBSCRIBE, an occasional QoS 0 PUBLISH (the broker counter's markers), and the fixed
 * header every frame starts with. Shared by the simulator's lean transport
 * (drivers/mqtt/lean-frames.ts, which adds its own PUBLISH and PUBACK) and the embedded backend's
 * broker counter (backend/broker-counter.ts), both of which speak MQTT without a library.
 */

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
  keepalive: number;
}

/** CONNECT, MQTT 3.1.1, clean session, no will. A password needs a username (MQTT 3.1.1 §3.1.2.9). */
export function encodeConnect(f: ConnectFields): Buffer {
  if (f.password !== undefined && f.username === undefined) throw new RangeError('MQTT 3.1.1 sends a password only with a username');
  const clientIdLength = Buffer.byteLength(f.clientId, 'utf8');
  const usernameLength = f.username === undefined ? -1 : Buffer.byteLength(f.username, 'utf8');
  const passwordLength = f.password === undefined ? -1 : Buffer.byteLength(f.password, 'utf8');
  // Variable header: protocol name (6), level (1), flags (1), keepalive (2); then the payload's strings.
  let remaining = 10 + 2 + clientIdLength;
  if (usernameLength >= 0) remaining += 2 + usernameLength;
  if (passwordLength >= 0) remaining += 2 + passwordLength;
  if (clientIdLength > 0xffff || usernameLength > 0xffff || passwordLength > 0xffff) throw new RangeError('MQTT CONNECT field over 65,535 bytes');
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  let at = writeFixedHeader(frame, 0, 0x10, remaining);
  at = frame.writeUInt16BE(4, at);
  at += frame.write('MQTT', at, 'latin1');
  frame[at++] = 4; // protocol level: 3.1.1
  frame[at++] = 0x02 | (usernameLength >= 0 ? 0x80 : 0) | (passwordLength >= 0 ? 0x40 : 0); // clean session
  at = frame.writeUInt16BE(f.keepalive, at);
  at = writeString(frame, at, f.clientId, clientIdLength);
  if (usernameLength >= 0) at = writeString(frame, at, f.username!, usernameLength);
  if (passwordLength >= 0) writeString(frame, at, f.password!, passwordLength);
  return frame;
}

/** SUBSCRIBE to one topic filter. */
export function encodeSubscribe(packetId: number, topic: string, qos: 0 | 1): Buffer {
  const topicLength = Buffer.byteLength(topic, 'utf8');
  if (topicLength > 0xffff) throw new RangeError('MQTT topic filter over 65,535 bytes');
  const remaining = 2 + 2 + topicLength + 1;
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  let at = writeFixedHeader(frame, 0, 0x82, remaining);
  at = frame.writeUInt16BE(packetId, at);
  at = writeString(frame, at, topic, topicLength);
  frame[at] = qos;
  return frame;
}

/** PUBLISH at QoS 0 (no packet id), not retained: an occasional frame, not a hot path's. */
export function encodePublishQos0(topic: string, payload: string): Buffer {
  const topicLength = Buffer.byteLength(topic, 'utf8');
  if (topicLength > 0xffff) throw new RangeError('MQTT topic over 65,535 bytes');
  const payloadLength = Buffer.byteLength(payload, 'utf8');
  const remaining = 2 + topicLength + payloadLength;
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  let at = writeFixedHeader(frame, 0, 0x30, remaining);
  at = writeString(frame, at, topic, topicLength);
  frame.write(payload, at, payloadLength, 'utf8');
  return frame;
}

/** Writes a fixed header (type/flags byte, remaining-length varint) at `buf[at]`; returns the offset after it. */
export function writeFixedHeader(buf: Buffer, at: number, typeAndFlags: number, remaining: number): number {
  buf[at++] = typeAndFlags;
  do {
    let digit = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) digit |= 0x80;
    buf[at++] = digit;
  } while (remaining > 0);
  return at;
}

/** A UTF-8 string with its 2-byte length prefix; `length` is its UTF-8 byte length. */
function writeString(buf: Buffer, at: number, text: string, length: number): number {
  at = buf.writeUInt16BE(length, at);
  return at + buf.write(text, at, length, 'utf8');
}

export function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

