/**
 * Just enough of MQTT 3.1.1's framing for the fault proxy (OASIS MQTT 3.1.1 §2.2): the fixed
 * header (packet type in the high nibble of byte 0, then the remaining length as a 1–4 byte
 * variable-length integer), the client id of a CONNECT (§3.1.3.1) and a CONNACK (§3.2).
 */

export const PacketType = { connect: 1, connack: 2, publish: 3, puback: 4, pingreq: 12, pingresp: 13, disconnect: 14 } as const;

/**
 * Length of the complete packet at `offset` (fixed header included), or -1 when `buf` does not
 * hold all of it yet, or -2 when the remaining length is malformed (a fifth length byte).
 */
export function packetLength(buf: Buffer, offset: number): number {
  let mult = 1;
  let len = 0;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= buf.length) return -1;
    const b = buf[offset + i];
    len += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      const total = 1 + i + len;
      return offset + total <= buf.length ? total : -1;
    }
    mult *= 128;
  }
  return -2;
}

export function packetType(buf: Buffer, offset: number): number {
  return buf[offset] >> 4;
}

/** The client id of a complete CONNECT packet, or '' when it cannot be read. */
export function connectClientId(packet: Buffer): string {
  // Skip the fixed header: its remaining length takes 1–4 bytes.
  let p = 1;
  while (p < 5 && p < packet.length && (packet[p] & 0x80) !== 0) p++;
  p++;
  if (p + 2 > packet.length) return '';
  const nameLen = packet.readUInt16BE(p);
  // protocol name, level (1), connect flags (1), keepalive (2)
  p += 2 + nameLen + 4;
  if (p + 2 > packet.length) return '';
  const idLen = packet.readUInt16BE(p);
  if (p + 2 + idLen > packet.length) return '';
  return packet.toString('utf8', p + 2, p + 2 + idLen);
}

/** A CONNACK with session present 0 and `returnCode` (0 accepted; 1–5 refusals, 3 = server unavailable). */
export function connack(returnCode: number): Buffer {
  return Buffer.from([PacketType.connack << 4, 2, 0, returnCode]);
}
