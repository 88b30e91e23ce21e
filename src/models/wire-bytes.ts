/**
 * Bytes on the wire, counted at the IP layer (what a cellular operator bills): MQTT 3.1.1 and
 * HTTP/1.1 messages, inside TLS records, inside TCP segments, inside IP packets.
 *
 *   IP header          20 B (IPv4, RFC 791 §3.1, no options) or 40 B (IPv6, RFC 8200 §3)
 *   TCP header         20 B (RFC 793 §3.1) + 12 B timestamps option (RFC 7323 §3, NOP NOP TS as
 *                      Appendix A lays it out; on by default in Linux); SYN and SYN-ACK carry
 *                      20 B of options (MSS 4, SACK-permitted 2, timestamps 10, NOP 1, window scale 3)
 *   TLS record         5 B header (RFC 8446 §5.1); TLS 1.3 adds 1 B inner content type + 16 B AEAD
 *                      tag (§5.2) = 22 B; TLS 1.2 AES-GCM adds 8 B explicit nonce + 16 B tag
 *                      (RFC 5288 §3) = 29 B; at most 16,384 B of plaintext per record
 *   MQTT fixed header  1 B + 1 to 4 B remaining length (MQTT 3.1.1 §2.2.3)
 *
 * Link-layer framing (radio headers, Ethernet) is not counted: operators bill IP bytes.
 * A message of L bytes is written as ceil(L / MSS) segments. The receiver of data it does not
 * answer at once sends one pure ACK per two full segments, at least one per flight (RFC 1122
 * §4.2.3.2, RFC 5681 §4.2); a request's segments are acknowledged by the response itself.
 */

export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;
export const TCP_HEADER = 20;
export const TCP_TIMESTAMPS_OPTION = 12;
export const TCP_SYN_OPTIONS = 20;
export const TLS_RECORD_HEADER = 5;
export const TLS_MAX_PLAINTEXT = 16_384;
export const TLS13_RECORD_OVERHEAD = TLS_RECORD_HEADER + 1 + 16;
export const TLS12_GCM_RECORD_OVERHEAD = TLS_RECORD_HEADER + 8 + 16;
/** Ethernet MTU (RFC 894): MSS = 1500 - IP header - TCP header (without options). */
export const MTU = 1500;

export interface TlsFraming {
  readonly recordOverhead: number;
  /** Handshake bytes (plaintext records included) client to server and back, full and resumed. */
  readonly fullUp: number;
  readonly fullDown: number;
  readonly resumedUp: number;
  readonly resumedDown: number;
  /** Sessions are resumed (a ticket / PSK) after the first full handshake. */
  readonly resumption: boolean;
}

export interface Framing {
  readonly ipHeader: number;
  /** TCP header of a data or ACK segment, options included. */
  readonly tcpHeader: number;
  /** Most payload bytes per segment. */
  readonly mss: number;
  /** Undefined: plain TCP. */
  readonly tls?: TlsFraming;
}

/**
 * TLS handshake sizes (assumed, docs/models.md "Data volume"): TLS 1.3 with an ECDSA P-256 server
 * chain of two certificates: ClientHello ~300 B and Finished ~80 B up; ServerHello,
 * EncryptedExtensions, Certificate (~1.9 KB), CertificateVerify and Finished ~2.6 KB down.
 * Resumed with a PSK ticket: ClientHello ~500 B (the ticket) up, ~250 B down. TLS 1.2 adds the
 * key exchange messages. Measure yours with `openssl s_client -msg` and set them in the scenario.
 */
export const TLS_HANDSHAKE_DEFAULTS = {
  '1.3': { fullUp: 380, fullDown: 2_600, resumedUp: 520, resumedDown: 250 },
  '1.2': { fullUp: 450, fullDown: 2_900, resumedUp: 420, resumedDown: 180 },
} as const;

export function framing(ip: 'ipv4' | 'ipv6', tls?: TlsFraming): Framing {
  const ipHeader = ip === 'ipv4' ? IPV4_HEADER : IPV6_HEADER;
  const tcpHeader = TCP_HEADER + TCP_TIMESTAMPS_OPTION;
  return { ipHeader, tcpHeader, mss: MTU - ipHeader - TCP_HEADER - TCP_TIMESTAMPS_OPTION, ...(tls ? { tls } : {}) };
}

/** Bytes of one packet without payload (a pure ACK, FIN). */
export const ackBytes = (f: Framing) => f.ipHeader + f.tcpHeader;

export function segments(f: Framing, bytes: number): number {
  return bytes > 0 ? Math.ceil(bytes / f.mss) : 0;
}

/** Bytes on the wire of `bytes` of stream data (already inside TLS if any): payload plus headers. */
export function streamBytes(f: Framing, bytes: number): number {
  return bytes + segments(f, bytes) * ackBytes(f);
}

/** `plaintext` bytes of application data after TLS record framing (unchanged on plain TCP). */
export function tlsWrapped(f: Framing, plaintext: number): number {
  if (!f.tls || plaintext <= 0) return plaintext;
  return plaintext + Math.ceil(plaintext / TLS_MAX_PLAINTEXT) * f.tls.recordOverhead;
}

/** One application write on the wire. */
export function writeBytes(f: Framing, plaintext: number): number {
  return streamBytes(f, tlsWrapped(f, plaintext));
}

/** Pure ACKs a receiver sends for a flight of `plaintext` it does not answer: one per two segments. */
export function acksFor(f: Framing, plaintext: number): number {
  const s = segments(f, tlsWrapped(f, plaintext));
  return s > 0 ? Math.ceil(s / 2) * ackBytes(f) : 0;
}

/** Bytes up (client to server) and down. */
export interface UpDown {
  up: number;
  down: number;
}

/** A request answered by a response; the client acknowledges the response. */
export function exchange(f: Framing, request: number, response: number): UpDown {
  return { up: writeBytes(f, request) + acksFor(f, response), down: writeBytes(f, response) };
}

/** A message nobody answers (QoS 0 PUBLISH): the server acknowledges it at the TCP level. */
export function oneWay(f: Framing, message: number): UpDown {
  return { up: writeBytes(f, message), down: acksFor(f, message) };
}

/**
 * Opening a connection: the TCP three-way handshake (SYN and SYN-ACK with their options), then the
 * TLS handshake (client flight, server flight, client Finished; the server's flight acknowledged).
 */
export function connectionOpen(f: Framing, resumed: boolean): UpDown {
  const syn = f.ipHeader + TCP_HEADER + TCP_SYN_OPTIONS;
  const up = syn + ackBytes(f);
  const down = syn;
  if (!f.tls) return { up, down };
  const t = f.tls;
  const hUp = resumed ? t.resumedUp : t.fullUp;
  const hDown = resumed ? t.resumedDown : t.fullDown;
  return { up: up + streamBytes(f, hUp) + Math.ceil(segments(f, hDown) / 2) * ackBytes(f), down: down + streamBytes(f, hDown) };
}

/** Closing: TLS close_notify each way (a 2-byte alert), then FIN and ACK each way. */
export function connectionClose(f: Framing): UpDown {
  const notify = f.tls ? writeBytes(f, 2) : 0;
  return { up: notify + 2 * ackBytes(f), down: notify + 2 * ackBytes(f) };
}

// --- MQTT 3.1.1 control packets (§3) ---

/** Bytes of the remaining-length field (§2.2.3). */
export function remainingLengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

const packet = (rest: number) => 1 + remainingLengthBytes(rest) + rest;

/** CONNECT (§3.1): 10 B variable header, then client id, user name and password, each 2 B + text. */
export function mqttConnect(clientIdBytes: number, userBytes: number, passwordBytes: number): number {
  let rest = 10 + 2 + clientIdBytes;
  if (userBytes > 0) rest += 2 + userBytes;
  if (passwordBytes > 0) rest += 2 + passwordBytes;
  return packet(rest);
}

export const MQTT_CONNACK = 4;
export const MQTT_PUBACK = 4;
export const MQTT_PINGREQ = 2;
export const MQTT_PINGRESP = 2;
export const MQTT_DISCONNECT = 2;

/** PUBLISH (§3.3): topic (2 B + text), a packet identifier for QoS > 0, then the payload. */
export function mqttPublish(topicBytes: number, payloadBytes: number, qos: 0 | 1): number {
  return packet(2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes);
}

/** SUBSCRIBE of one filter (§3.8): packet id, then the filter (2 B + text) and its QoS byte. */
export function mqttSubscribe(filterBytes: number): number {
  return packet(2 + 2 + filterBytes + 1);
}

/** SUBACK for one filter (§3.9). */
export const MQTT_SUBACK = 5;

// --- HTTP/1.1 (RFC 9112) ---

/** Bytes of a message with a start line, header lines (`name: value`) and a body. */
export function httpMessage(startLine: string, headers: ReadonlyArray<readonly [string, string]>, bodyBytes: number): number {
  let n = startLine.length + 2;
  for (const [k, v] of headers) n += k.length + 2 + v.length + 2;
  return n + 2 + bodyBytes;
}
