import net from 'node:net';
import tls from 'node:tls';
import { decodeFrames, type FrameCarry, type FrameSink } from '../wire/mqtt-frame-decoder.js';
import { encodeConnect, encodeSubscribe } from '../wire/mqtt-client-frames.js';
import { TOPIC_ROOT } from '../wire/reference-protocol.js';
import type { DeviceStore } from './store.js';
import { CONFIRM_DEADLINE_MS, CountConfirmation, DOLLAR, type CountCheck, type CountingSession } from './count-confirmation.js';

/** TLS of a counting subscriber: what to trust, and its client certificate when the broker requires one. */
export interface CounterTls {
  ca?: string;
  key?: string;
  cert?: string;
  servername?: string;
  insecure?: boolean;
}

/**
 * The QoS the counter subscribes with. Against Mosquitto 2.0 (max_inflight_messages 0, clean
 * session) QoS 1 keeps nothing that QoS 0 loses: either way a subscriber that stops reading is
 * dropped messages once ~max_queued_messages are waiting for it (measured: 40,000 messages
 * published while the subscriber did not read, 25,894 arrived at QoS 0 and 25,994 at QoS 1,
 * bench/RESULTS.md, "Coordinator per telemetry message and per device"), and a lost session
 * loses its queue. QoS 0 spares the broker a PUBACK to read and an in-flight message to keep per
 * delivery, so local Mosquitto brokers are counted at QoS 0; a broker given by URL, whose queueing
 * we do not know, at QoS 1.
 */
export type CounterQos = 0 | 1;

/** Wait between a lost counting session and the next attempt (as mqtt.js's reconnectPeriod was). */
const RECONNECT_MS = 1000;
/** How long the first session of each broker may take (retrying every RECONNECT_MS) before the backend fails to start. */
const START_TIMEOUT_MS = 10_000;
/** Keepalive announced in CONNECT; a PINGREQ goes out every half of it (Mosquitto refuses keepalive 0 when max_keepalive is set). */
const KEEPALIVE_S = 60;
const PINGREQ = Buffer.from([0xc0, 0x00]);
const SUBSCRIBE_ID = 1;
/** One read buffer for every plain-TCP counting socket (net's `onread`): reads allocate nothing. */
const READ_BUFFER_BYTES = 256 * 1024;
/**
 * A socket whose read was small stops reading until the next tick of this period, so the next
 * read takes everything the broker sent meanwhile: at the 500k run's ~300 messages per second per
 * broker a read held one message, and the read's own cost (the poll wake-up, the system call, the
 * callback) was most of the counter's CPU per message. A read of at least
 * KEEP_READING_BYTES goes on reading at once, so a busy broker is never left waiting (Mosquitto
 * drops what a subscriber leaves queued past max_queued_messages). Counts are late by at most
 * this much; `settle` waits for its markers instead.
 */
const READ_EVERY_MS = 50;
const KEEP_READING_BYTES = READ_BUFFER_BYTES / 2;

const TYPE_CONNACK = 2;
const TYPE_PUBLISH = 3;
const TYPE_SUBACK = 9;
/** `fleet/` before a device id and `/telemetry` after it, in bytes. */
const ID_OFFSET = TOPIC_ROOT.length + 1;
const TELEMETRY_SUFFIX = '/telemetry'.length;

/**
 * Counts telemetry that devices publish to an external broker (a local Mosquitto, say), so the
 * embedded HTTP API can still reconcile per-device counts with the simulator when it is not the
 * broker. One subscriber on `fleet/+/telemetry` per broker, speaking MQTT itself on a raw socket:
 * frames are split in place by the project's frame decoder, and the device id and sequence number
 * are read from the frame's bytes (the store's id index finds a device from bytes), so a message
 * costs no object, string or Map lookup (mqtt.js built a packet, a topic string and a payload
 * slice each). At QoS 1 the PUBACKs of one read leave in one write.
 *
 * A broker acknowledges a publish before it forwards it, and may drop what it cannot queue for a
 * slow subscriber, so a reader must let the counter confirm its count (`settle`: markers, and
 * Mosquitto's own count of drops) before trusting it.
 *
 * Concurrency: everything runs on the backend's event loop; socket callbacks run to completion.
 */
export class BrokerCounter {
  private readonly links: CounterLink[] = [];
  private readonly ping: NodeJS.Timeout;
  private readonly reader: NodeJS.Timeout;
  /** Shared by the plain-TCP sockets: reads are delivered one at a time and decoded before the next. */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  received = 0;

  private constructor(
    readonly store: DeviceStore,
    readonly qos: CounterQos,
  ) {
    this.ping = setInterval(() => {
      for (const l of this.links) l.socket?.write(PINGREQ);
    }, (KEEPALIVE_S * 1000) / 2).unref();
    this.reader = setInterval(() => {
      for (const l of this.links) l.socket?.resume();
    }, READ_EVERY_MS).unref();
  }

  /**
   * `sysDrops`: the brokers publish $SYS every second (brokers fleetsim starts), so settle() can
   * read how many messages they dropped; otherwise their drops cannot be seen and no count is
   * confirmed complete.
   */
  static async start(store: DeviceStore, urls: readonly string[], tlsOptions?: CounterTls, qos: CounterQos = 1, sysDrops = false): Promise<BrokerCounter> {
    const c = new BrokerCounter(store, qos);
    urls.forEach((url, i) => c.links.push(new CounterLink(c, url, `fleetsim-backend-counter-${process.pid}-${i}`, tlsOptions, sysDrops)));
    try {
      await Promise.all(c.links.map((l) => l.ready));
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** One PUBLISH frame's body `buf[start, end)`, from `link`. */
  onPublish(link: CounterLink, header: number, buf: Buffer, start: number, end: number): void {
    const topicEnd = start + 2 + ((buf[start] << 8) | buf[start + 1]);
    let payload = topicEnd;
    if ((header & 0x06) !== 0) {
      link.ack(buf[topicEnd], buf[topicEnd + 1]);
      payload += 2;
    }
    const idStart = start + 2 + ID_OFFSET;
    const idEnd = topicEnd - TELEMETRY_SUFFIX;
    // The subscription's filter guarantees the topic's shape; a frame too short for it is malformed.
    const k = idEnd > idStart && payload <= end ? this.store.indexOfIdBytes(buf, idStart, idEnd) : -1;
    if (k < 0 && link.confirmation.isMarker(buf, start + 2, topicEnd)) {
      link.confirmation.onMarker(buf.toString('latin1', payload, end));
      return; // a marker, not telemetry
    }
    this.received++;
    this.store.countTelemetryAt(k, buf, payload, end);
  }

  /**
   * Waits until every broker has delivered to the counter all it accepted so far (call it once the
   * devices stopped), and says what could not be confirmed: a broker whose marker did not come
   * back by the deadline, whose counting session was lost during the run, or whose drops cannot
   * be seen. Never a silent undercount: what is not confirmed is named.
   */
  async settle(deadlineMs = CONFIRM_DEADLINE_MS): Promise<CountCheck> {
    const deadline = Date.now() + deadlineMs;
    const checks = await Promise.all(this.links.map((l) => l.confirmation.confirm(deadline, deadlineMs)));
    const check: CountCheck = { dropped: 0, unconfirmed: [] };
    for (const c of checks) {
      check.dropped += c.dropped ?? 0;
      if (c.unconfirmed.length > 0) check.unconfirmed.push(`${c.broker}: ${c.unconfirmed.join('; ')}`);
    }
    return check;
  }

  async close(): Promise<void> {
    clearInterval(this.ping);
    clearInterval(this.reader);
    await Promise.all(this.links.map((l) => l.close()));
  }
}

/** One broker's counting session: its socket, the unfinished frame between reads, and PUBACKs due. */
class CounterLink implements FrameCarry, FrameSink, CountingSession {
  carry: Buffer | null = null;
  carryLength = 0;
  socket: net.Socket | undefined;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private subscribed = false;
  private closing = false;
  private readonly startedAt = Date.now();
  private retry: NodeJS.Timeout | undefined;
  private lastError = '';
  /** PUBACKs of the read being decoded, written once it is done. */
  private acks = Buffer.allocUnsafe(4 * 256);
  private ackBytes = 0;
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  readonly broker: string;
  readonly confirmation: CountConfirmation;

  constructor(
    private readonly counter: BrokerCounter,
    url: string,
    readonly clientId: string,
    private readonly tlsOptions: CounterTls | undefined,
    readonly sysDrops: boolean,
  ) {
    const u = new URL(url);
    this.secure = u.protocol === 'mqtts:';
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = u.port === '' ? (this.secure ? 8883 : 1883) : Number(u.port);
    this.broker = `${this.host}:${this.port}`;
    this.confirmation = new CountConfirmation(this);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by start(); a late rejection after start failed is not unhandled
    this.open();
  }

  private open(): void {
    this.carry = null;
    this.carryLength = 0;
    const o = this.tlsOptions;
    let socket: net.Socket;
    if (this.secure) {
      socket = tls.connect({ host: this.host, port: this.port, ca: o?.ca, key: o?.key, cert: o?.cert, servername: o?.servername, rejectUnauthorized: o?.insecure !== true });
      socket.on('data', (chunk: Buffer) => {
        if (!this.onBytes(chunk, chunk.length)) socket.pause();
      });
    } else {
      // Returning false from `onread` stops reading until resume() (the counter's read tick).
      socket = net.connect({ host: this.host, port: this.port, noDelay: true, onread: { buffer: this.counter.readBuffer, callback: (n) => this.onBytes(this.counter.readBuffer, n) } });
    }
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => (this.lastError = err.code ?? err.message));
    socket.on('close', () => this.onClose(socket));
    // A client may send further packets right after CONNECT (MQTT 3.1.1, 3.1.4).
    socket.write(encodeConnect({ clientId: this.clientId, keepalive: KEEPALIVE_S }));
    socket.write(encodeSubscribe(SUBSCRIBE_ID, `${TOPIC_ROOT}/+/telemetry`, this.counter.qos));
    socket.write(this.confirmation.subscription());
    this.socket = socket;
  }

  /** Handles one read; returns whether to go on reading now (false: wait for the read tick). */
  private onBytes(buf: Buffer, n: number): boolean {
    if (!decodeFrames(this, buf, 0, n, this)) {
      this.lastError = 'malformed MQTT stream';
      this.socket?.destroy();
      return false;
    }
    if (this.ackBytes > 0) {
      // A copy: the socket may hold the buffer until it is flushed, and the next read refills `acks`.
      this.socket?.write(Buffer.from(this.acks.subarray(0, this.ackBytes)));
      this.ackBytes = 0;
    }
    return n >= KEEP_READING_BYTES;
  }

  onFrame(header: number, buf: Buffer, start: number, end: number): boolean {
    const type = header >> 4;
    if (type === TYPE_PUBLISH) {
      if (end > start + 2 && buf[start + 2] === DOLLAR) this.confirmation.onSys(header, buf, start, end);
      else this.counter.onPublish(this, header, buf, start, end);
    } else if (type === TYPE_CONNACK && buf[start + 1] !== 0) this.fail(`the broker refused the counting subscriber (CONNACK ${buf[start + 1]})`);
    else if (type === TYPE_SUBACK && ((buf[start] << 8) | buf[start + 1]) !== SUBSCRIBE_ID) {
      this.confirmation.onSubscribed((buf[start] << 8) | buf[start + 1], buf[start + 2] === 0x80);
    } else if (type === TYPE_SUBACK) {
      if (buf[start + 2] === 0x80) this.fail(`the broker refused the counting subscription to ${TOPIC_ROOT}/+/telemetry`);
      else {
        this.subscribed = true;
        this.resolveReady();
      }
    }
    return true;
  }

  ack(idHigh: number, idLow: number): void {
    if (this.ackBytes + 4 > this.acks.length) {
      const more = Buffer.allocUnsafe(this.acks.length * 2);
      this.acks.copy(more, 0, 0, this.ackBytes);
      this.acks = more;
    }
    const a = this.acks;
    a[this.ackBytes] = 0x40;
    a[this.ackBytes + 1] = 0x02;
    a[this.ackBytes + 2] = idHigh;
    a[this.ackBytes + 3] = idLow;
    this.ackBytes += 4;
  }

  /** CountingSession: writes on the subscribed session. */
  send(frame: Buffer): boolean {
    if (!this.subscribed || this.socket === undefined) return false;
    this.socket.write(frame);
    return true;
  }

  private fail(why: string): void {
    this.lastError = why;
    if (!this.subscribed) this.rejectReady(new Error(why));
    this.closing = !this.subscribed || this.closing;
    this.socket?.destroy();
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.ackBytes = 0;
    if (this.closing) return;
    if (!this.subscribed && Date.now() - this.startedAt > START_TIMEOUT_MS) {
      this.rejectReady(new Error(`the counting subscriber could not connect to ${this.host}:${this.port}: ${this.lastError || 'connection closed'}`));
      return;
    }
    // Lost: come back and subscribe again (what the broker delivered meanwhile is not counted).
    if (this.subscribed) this.confirmation.sessionsLost++;
    this.subscribed = false;
    this.retry = setTimeout(() => this.open(), RECONNECT_MS);
  }

  close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retry);
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
