/**
 * MQTT 3.1.1 frames the lean transport sends, encoded here directly: PUBLISH straight into the
 * transport's write batch (see lean-write-batch.ts), or into a buffer of its own
 * (Buffer.allocUnsafe takes small buffers from Node's shared pool, so that costs one slice, not
 * one allocation); CONNECT and SUBSCRIBE, rare, into buffers of their own. No MQTT library is
 * loaded: mqtt-packet cost every shard process ~1 MB to load plus a ~5 MB cache of number
 * buffers it builds on its first CONNECT (bench/RESULTS.md, "250,000 connected devices"). The unit tests
 * check every encoder byte for byte against mqtt-packet.
 */

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

/** Writes a fixed header (type/flags byte, remaining-length varint) at `buf[at]`; returns the offset after it. */
function writeFixedHeader(buf: Buffer, at: number, typeAndFlags: number, remaining: number): number {
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

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

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
