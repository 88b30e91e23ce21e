/**
 * The MQTT 3.1.1 frames the lean broker reads and writes (OASIS MQTT 3.1.1, section 3). Readers
 * take a frame's body `buf[start, end)` as the frame splitter (wire/mqtt-frame-decoder.ts) hands it
 * over and return undefined for a malformed one, after which the broker closes the connection
 * (section 4.8: a protocol violation closes the network connection).
 */
import { varintLength, writeFixedHeader } from '../wire/mqtt-client-frames.js';

export const PacketType = {
  CONNECT: 1,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  UNSUBSCRIBE: 10,
  PINGREQ: 12,
  DISCONNECT: 14,
} as const;

/** CONNACK return codes (3.2.2.3). */
export const ConnackCode = { ACCEPTED: 0, BAD_PROTOCOL: 1, IDENTIFIER_REJECTED: 2, BAD_LOGIN: 4 } as const;

export const PINGRESP_FRAME: Buffer = Buffer.from([0xd0, 0x00]);
/** SUBACK return code of a refused subscription. */
export const SUBACK_FAILURE = 0x80;

export function connackFrame(code: number): Buffer {
  return Buffer.from([0x20, 0x02, 0x00, code]);
}

/** The CONNACK of an accepted session, shared by all of them: sockets only read the frames they are given. */
export const CONNACK_ACCEPTED_FRAME: Buffer = connackFrame(ConnackCode.ACCEPTED);

/** PUBACK, PUBREC, PUBCOMP or UNSUBACK: a type byte and a packet id. */
export function ackFrame(firstByte: number, packetId: number): Buffer {
  return Buffer.from([firstByte, 0x02, packetId >> 8, packetId & 0xff]);
}
export const PUBACK_BYTE = 0x40;
export const PUBREC_BYTE = 0x50;
export const PUBCOMP_BYTE = 0x70;
export const UNSUBACK_BYTE = 0xb0;

export interface ConnectPacket {
  /** 4 (MQTT 3.1.1) or 3 (MQTT 3.1). */
  level: number;
  clean: boolean;
  keepaliveS: number;
  clientId: string;
  username: string | undefined;
  password: string | undefined;
}

/**
 * Where the last readString ended. A module-level cursor rather than a [value, next] pair per
 * string: CONNECT and SUBSCRIBE are read once per connecting device. Safe because readers run to
 * completion on one thread and read the cursor right after each call.
 */
let nextAt = 0;

/** Reads a length-prefixed UTF-8 string at `buf[at]` (its end goes to `nextAt`), or undefined past `end`. */
function readString(buf: Buffer, at: number, end: number): string | undefined {
  if (at + 2 > end) return undefined;
  const len = (buf[at] << 8) | buf[at + 1];
  if (at + 2 + len > end) return undefined;
  nextAt = at + 2 + len;
  return buf.toString('utf8', at + 2, nextAt);
}

/** CONNECT (3.1). An unknown protocol name or level returns `level` 0 (CONNACK 1 then closes). */
export function readConnect(buf: Buffer, start: number, end: number): ConnectPacket | undefined {
  const name = readString(buf, start, end);
  if (name === undefined || nextAt + 4 > end) return undefined;
  let at = nextAt;
  const level = buf[at];
  const flags = buf[at + 1];
  const keepaliveS = (buf[at + 2] << 8) | buf[at + 3];
  at += 4;
  const known = (name === 'MQTT' && level === 4) || (name === 'MQIsdp' && level === 3);
  if ((flags & 0x01) !== 0) return undefined; // reserved flag must be 0 (3.1.2.3)
  const clientId = readString(buf, at, end);
  if (clientId === undefined) return undefined;
  at = nextAt;
  if ((flags & 0x04) !== 0) {
    // A will: topic and message, read past. Wills are never published (the policy refuses a
    // publish by a session that is gone), as with aedes.
    const topic = readString(buf, at, end);
    if (topic === undefined || nextAt + 2 > end) return undefined;
    at = nextAt + 2 + buf.readUInt16BE(nextAt);
    if (at > end) return undefined;
  }
  let username: string | undefined;
  let password: string | undefined;
  if ((flags & 0x80) !== 0) {
    username = readString(buf, at, end);
    if (username === undefined) return undefined;
    at = nextAt;
  }
  if ((flags & 0x40) !== 0) {
    password = readString(buf, at, end);
    if (password === undefined) return undefined;
    at = nextAt;
  }
  return { level: known ? level : 0, clean: (flags & 0x02) !== 0, keepaliveS, clientId, username, password };
}

/** A PUBLISH the broker sends (retain and dup off). `packetId` is used for QoS 1 only. */
export function publishFrame(topic: string, payload: Uint8Array, qos: 0 | 1, packetId: number): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payload.length;
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  let at = writeFixedHeader(frame, 0, 0x30 | (qos << 1), remaining);
  frame.writeUInt16BE(topicBytes, at);
  at += 2 + frame.write(topic, at + 2, 'utf8');
  if (qos > 0) {
    frame.writeUInt16BE(packetId, at);
    at += 2;
  }
  frame.set(payload, at);
  return frame;
}

/** SUBACK with one return code per requested filter. */
export function subackFrame(packetId: number, codes: readonly number[]): Buffer {
  const remaining = 2 + codes.length;
  const frame = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  const at = writeFixedHeader(frame, 0, 0x90, remaining);
  frame.writeUInt16BE(packetId, at);
  for (let i = 0; i < codes.length; i++) frame[at + 2 + i] = codes[i];
  return frame;
}

/** SUBSCRIBE or UNSUBSCRIBE (3.8, 3.10): the packet id and the filters (with the requested QoS for SUBSCRIBE). */
export function readSubscriptions(buf: Buffer, start: number, end: number, withQos: boolean): { packetId: number; filters: string[]; qos: number[] } | undefined {
  if (start + 2 > end) return undefined;
  const packetId = buf.readUInt16BE(start);
  const filters: string[] = [];
  const qos: number[] = [];
  let at = start + 2;
  while (at < end) {
    const f = readString(buf, at, end);
    if (f === undefined || f.length === 0) return undefined;
    at = nextAt;
    if (withQos) {
      if (at >= end || buf[at] > 2) return undefined;
      qos.push(buf[at++]);
    }
    filters.push(f);
  }
  return filters.length === 0 ? undefined : { packetId, filters, qos };
}

/** True when `topic` matches the filter `filter` with MQTT wildcards `+` and `#` (4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false; // 4.7.2
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * A valid subscription filter: `#` only last and alone in its level, `+` alone in its level (4.7.1).
 * One pass over the characters (every device subscribes once when it connects).
 */
export function isValidFilter(filter: string): boolean {
  const n = filter.length;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c !== HASH && c !== PLUS) continue;
    if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return false;
    if (c === HASH) return i === n - 1;
    if (i + 1 < n && filter.charCodeAt(i + 1) !== SLASH) return false;
  }
  return true;
}

const HASH = 0x23;
const PLUS = 0x2b;
const SLASH = 0x2f;
