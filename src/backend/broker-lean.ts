import { RawTcpStream, type TcpHandle } from '../sockets/raw-tcp-stream.js';
import { listenRawTcp } from '../sockets/raw-tcp-server.js';
import { commandsTopic } from '../wire/reference-protocol.js';
import { type FrameCarry, type FrameSink, decodeFrames, frameLength } from '../wire/mqtt-frame-decoder.js';
import { BrokerPolicy, OPERATOR, type BrokerIdentity } from './broker-policy.js';
import { type Broker, type BrokerOptions, CONNECT_TIMEOUT_MS, DRAIN_TIMEOUT_MS, LISTEN_BACKLOG, urlHost } from './broker.js';
import {
  CONNACK_ACCEPTED_FRAME,
  ConnackCode,
  PINGRESP_FRAME,
  PUBACK_BYTE,
  PUBCOMP_BYTE,
  PUBREC_BYTE,
  PacketType,
  SUBACK_FAILURE,
  UNSUBACK_BYTE,
  ackFrame,
  connackFrame,
  isValidFilter,
  publishFrame,
  readConnect,
  readSubscriptions,
  subackFrame,
  topicMatches,
} from './broker-lean-frames.js';
import type { DeviceStore } from './store.js';

/**
 * The embedded backend's own MQTT 3.1.1 broker (the default; `broker: aedes` keeps aedes). It
 * serves what the reference protocol needs, over plain TCP: CONNECT with a login, QoS 0 and 1
 * publishes (QoS 2 is acknowledged and delivered at QoS 1), subscriptions (exact topics for
 * devices, wildcards for the operator), PINGREQ and DISCONNECT, with a CONNECT timeout, the
 * keepalive (1.5 x, 3.1.2.10), takeover of a client id, and a drain timeout for subscribers that
 * stop reading. Every session is clean: no session state outlives a connection and retained
 * messages are not stored (devices ask for neither; a persistent session is accepted and answered
 * as a fresh one, session present = 0).
 *
 * Why not aedes: per device, aedes builds stream pipelines (and an abort DOMException) for each
 * CONNECT and SUBSCRIBE, writes each ack with its own writev and keeps ~14 KB of session state;
 * that was most of the embedded backend's CPU per provisioned device (bench/RESULTS.md). Here a
 * session is one object, frames are split in place (wire/mqtt-frame-decoder.ts), and all answers to
 * one read leave in one write (the socket is corked while a read is decoded). The session is its own
 * socket: it runs on libuv's TCP handle without a net.Socket (sockets/raw-tcp-stream.ts), which
 * saves the stream machinery on every accept, read and write (bench/RESULTS.md, "The embedded
 * broker without net.Socket").
 *
 * Concurrency: everything runs on the event loop of the thread that started it; the policy's
 * callbacks (counting, fleet operations) run synchronously inside the read that carried the frame.
 */

/** Largest frame a client may send, bytes: telemetry payloads go up to 1 MiB; larger frames close the connection. */
const MAX_FRAME_BYTES = 2 * 1024 * 1024;
/** How often sessions are checked against the CONNECT, keepalive and drain deadlines, ms. */
const SWEEP_EVERY_MS = 1000;

/** One subscription: its session and the QoS granted. */
interface Sub {
  session: Session;
  qos: 0 | 1;
}

/**
 * Bytes a session may have waiting in libuv for a slow reader before its drain deadline starts:
 * net's default highWaterMark, where net.Socket.write starts returning false.
 */
const WRITE_HIGH_WATER_BYTES = 16 * 1024;

class Session extends RawTcpStream implements FrameCarry, FrameSink {
  carry: Buffer | null = null;
  carryLength = 0;
  /** Who logged in; undefined until CONNECT is accepted. */
  who: BrokerIdentity | undefined = undefined;
  clientId = '';
  keepaliveMs = 0;
  lastHeardMs: number;
  readonly openedMs: number;
  /** Since when the socket has been waiting for a drain, or 0. */
  drainSinceMs = 0;
  private nextPacketId = 0;
  /** Filters this session holds (to unregister them when it ends). */
  readonly filters: string[] = [];
  closed = false;

  constructor(
    handle: TcpHandle,
    readonly broker: LeanBroker,
    now: number,
  ) {
    super(handle, true);
    this.openedMs = now;
    this.lastHeardMs = now;
  }

  protected received(buf: Buffer, nread: number): void {
    this.broker.onData(this, buf, nread);
  }

  protected failed(code: string): void {
    if (code !== 'ECONNRESET' && code !== 'EPIPE') this.broker.log(`mqtt client ${this.clientId}: ${code}`);
  }

  protected onClose(): void {
    this.broker.ended(this);
    this.broker.handleGone();
  }

  protected override written(): void {
    if (this.pendingBytes === 0) this.drainSinceMs = 0;
  }

  onFrame(header: number, buf: Buffer, start: number, end: number): boolean {
    return this.broker.onFrame(this, header, buf, start, end);
  }

  packetId(): number {
    this.nextPacketId = (this.nextPacketId % 0xffff) + 1;
    return this.nextPacketId;
  }
}

class LeanBroker {
  private readonly sessions = new Set<Session>();
  private readonly byClientId = new Map<string, Session>();
  /** Each device's latest session, so an older one ending does not mark the device offline. */
  private readonly byDevice = new Map<string, Session>();
  /** Subscribers of each topic subscribed to without wildcards (every device's commands topic). */
  private readonly exact = new Map<string, Sub[]>();
  /** Wildcard subscriptions (the operator's), matched against every publish. */
  private wild: Array<Sub & { filter: string }> = [];
  private anonymous = 0;
  connected = 0;
  /** Accepted connections whose handle has not closed yet, and who waits for them all to close. */
  private handles = 0;
  private allGone: (() => void) | undefined;

  constructor(
    private readonly policy: BrokerPolicy,
    readonly log: (line: string) => void,
    private readonly drainTimeoutMs: number,
  ) {}

  readonly accept = (handle: TcpHandle): void => {
    handle.setNoDelay(true);
    this.handles++;
    this.sessions.add(new Session(handle, this, Date.now()));
  };

  /** What a session read: `buf[0, nread)`, valid during this call only (the decoder copies what it keeps). */
  onData(s: Session, buf: Buffer, nread: number): void {
    s.lastHeardMs = Date.now();
    s.cork();
    const ok = decodeFrames(s, buf, 0, nread, s);
    s.uncork();
    this.watchDrain(s);
    if (!ok || (s.carry !== null && frameLength(s.carry, 0, s.carryLength) > MAX_FRAME_BYTES)) this.drop(s, 'malformed or oversized frame');
  }

  /** One whole frame of `s`; false stops decoding (the session was closed). */
  onFrame(s: Session, header: number, buf: Buffer, start: number, end: number): boolean {
    if (s.closed) return false;
    const type = header >> 4;
    if (s.who === undefined) return type === PacketType.CONNECT ? this.connect(s, buf, start, end) : this.drop(s, 'first packet is not CONNECT');
    switch (type) {
      case PacketType.PUBLISH:
        return this.publish(s, header, buf, start, end);
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBCOMP:
        return true; // sessions are clean: nothing is resent, so acks of our publishes need no bookkeeping
      case PacketType.PUBREL:
        if (end - start < 2) return this.drop(s, 'short PUBREL');
        this.write(s, ackFrame(PUBCOMP_BYTE, buf.readUInt16BE(start)));
        return true;
      case PacketType.SUBSCRIBE:
        return header === 0x82 ? this.subscribe(s, buf, start, end) : this.drop(s, 'bad SUBSCRIBE flags');
      case PacketType.UNSUBSCRIBE:
        return header === 0xa2 ? this.unsubscribe(s, buf, start, end) : this.drop(s, 'bad UNSUBSCRIBE flags');
      case PacketType.PINGREQ:
        this.write(s, PINGRESP_FRAME);
        return true;
      case PacketType.DISCONNECT:
        s.end();
        this.ended(s);
        return false;
      default:
        return this.drop(s, `unexpected packet type ${type}`);
    }
  }

  private connect(s: Session, buf: Buffer, start: number, end: number): boolean {
    const p = readConnect(buf, start, end);
    if (p === undefined) return this.drop(s, 'malformed CONNECT');
    if (p.level === 0) return this.refuse(s, ConnackCode.BAD_PROTOCOL);
    if (p.clientId === '' && !p.clean) return this.refuse(s, ConnackCode.IDENTIFIER_REJECTED);
    const who = this.policy.login(p.username, p.password);
    if (who === undefined) return this.refuse(s, ConnackCode.BAD_LOGIN);
    const clientId = p.clientId === '' ? `fleetsim-anonymous-${++this.anonymous}` : p.clientId;
    const previous = this.byClientId.get(clientId);
    if (previous !== undefined) this.drop(previous, 'taken over by a new connection with its client id');
    s.who = who;
    s.clientId = clientId;
    s.keepaliveMs = p.keepaliveS * 1000;
    this.byClientId.set(clientId, s);
    this.connected++;
    if (who !== OPERATOR) {
      // A second session of the same device (another client id) is allowed, as with aedes; the
      // device counts as online until its latest session ends.
      this.byDevice.set(who.id, s);
      who.online = true;
    }
    this.write(s, CONNACK_ACCEPTED_FRAME);
    return true;
  }

  private publish(s: Session, header: number, buf: Buffer, start: number, end: number): boolean {
    const qos = (header >> 1) & 3;
    if (qos === 3 || start + 2 > end) return this.drop(s, 'malformed PUBLISH');
    const topicEnd = start + 2 + buf.readUInt16BE(start);
    const idEnd = topicEnd + (qos > 0 ? 2 : 0);
    if (idEnd > end) return this.drop(s, 'malformed PUBLISH');
    const topic = buf.toString('utf8', start + 2, topicEnd);
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) return this.drop(s, 'wildcard in a PUBLISH topic');
    const payload = buf.subarray(idEnd, end);
    // A refused publish closes the session: MQTT 3.1.1 has no negative PUBACK.
    if (!this.policy.publish(s.who, topic, payload)) return this.drop(s, `publish to ${topic} refused`);
    if (qos > 0) this.write(s, ackFrame(qos === 1 ? PUBACK_BYTE : PUBREC_BYTE, buf.readUInt16BE(topicEnd)));
    this.deliver(topic, payload, qos > 0 ? 1 : 0);
    return true;
  }

  /** Sends a publish to every session subscribed to `topic`, at the lower of its QoS and the granted one. */
  deliver(topic: string, payload: Uint8Array, qos: 0 | 1): void {
    const subs = this.exact.get(topic);
    if (subs !== undefined) for (const sub of subs) this.send(sub, topic, payload, qos);
    for (const sub of this.wild) if (topicMatches(sub.filter, topic)) this.send(sub, topic, payload, qos);
  }

  private send(sub: Sub, topic: string, payload: Uint8Array, qos: 0 | 1): void {
    const q = qos < sub.qos ? qos : sub.qos;
    if (!sub.session.closed) this.write(sub.session, publishFrame(topic, payload, q, q > 0 ? sub.session.packetId() : 0));
  }

  private subscribe(s: Session, buf: Buffer, start: number, end: number): boolean {
    const r = readSubscriptions(buf, start, end, true);
    if (r === undefined) return this.drop(s, 'malformed SUBSCRIBE');
    const who = s.who!;
    const { filters } = r;
    const codes: number[] = [];
    for (let i = 0; i < filters.length; i++) {
      const filter = filters[i];
      if (!isValidFilter(filter) || !this.policy.subscribe(who, filter)) {
        codes.push(SUBACK_FAILURE);
        continue;
      }
      const qos: 0 | 1 = r.qos[i] > 0 ? 1 : 0;
      this.unregister(s, filter);
      s.filters.push(filter);
      if (filter.includes('+') || filter.includes('#')) this.wild = [...this.wild, { session: s, qos, filter }];
      else {
        const subs = this.exact.get(filter);
        if (subs === undefined) this.exact.set(filter, [{ session: s, qos }]);
        else subs.push({ session: s, qos });
      }
      codes.push(qos);
    }
    this.write(s, subackFrame(r.packetId, codes));
    // After the SUBACK: fleet operations may publish to the new subscription straight away.
    for (let i = 0; i < filters.length; i++) if (codes[i] !== SUBACK_FAILURE) this.policy.subscribed(who, filters[i]);
    return !s.closed;
  }

  private unsubscribe(s: Session, buf: Buffer, start: number, end: number): boolean {
    const r = readSubscriptions(buf, start, end, false);
    if (r === undefined) return this.drop(s, 'malformed UNSUBSCRIBE');
    for (const filter of r.filters) this.unregister(s, filter);
    this.write(s, ackFrame(UNSUBACK_BYTE, r.packetId));
    return true;
  }

  private unregister(s: Session, filter: string): void {
    const at = s.filters.indexOf(filter);
    if (at < 0) return;
    s.filters.splice(at, 1);
    const subs = this.exact.get(filter);
    if (subs !== undefined) {
      const rest = subs.filter((x) => x.session !== s);
      if (rest.length === 0) this.exact.delete(filter);
      else this.exact.set(filter, rest);
    }
    // Copy on change: a delivery loop running over `wild` keeps the array it started with.
    if (this.wild.some((x) => x.session === s && x.filter === filter)) this.wild = this.wild.filter((x) => !(x.session === s && x.filter === filter));
  }

  private write(s: Session, frame: Buffer): void {
    s.write(frame);
    this.watchDrain(s);
  }

  /** A session whose peer stops reading starts its drain deadline once net would have said so. */
  private watchDrain(s: Session): void {
    if (s.drainSinceMs === 0 && s.pendingBytes > WRITE_HIGH_WATER_BYTES) s.drainSinceMs = Date.now();
  }

  /** CONNACK with a refusal, then the connection closes once it is written. */
  private refuse(s: Session, code: number): false {
    s.end(connackFrame(code));
    this.ended(s);
    return false;
  }

  /** Closes a session for a protocol violation, a refused publish, a deadline or a takeover. */
  private drop(s: Session, reason: string): false {
    if (!s.closed) this.log(`mqtt client ${s.clientId || '(before CONNECT)'}: ${reason}`);
    s.destroy();
    this.ended(s);
    return false;
  }

  /** Forgets a session (idempotent: its socket's close event comes here too). */
  ended(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s);
    for (const filter of [...s.filters]) this.unregister(s, filter);
    const who = s.who;
    if (who === undefined) return;
    this.connected--;
    if (this.byClientId.get(s.clientId) === s) this.byClientId.delete(s.clientId);
    if (who !== OPERATOR && this.byDevice.get(who.id) === s) {
      this.byDevice.delete(who.id);
      who.online = false;
    }
  }

  /** Closes sessions past their CONNECT, keepalive (1.5 x, MQTT 3.1.1 §3.1.2.10) or drain deadline. */
  readonly sweep = (): void => {
    const now = Date.now();
    for (const s of this.sessions) {
      if (s.who === undefined && now - s.openedMs >= CONNECT_TIMEOUT_MS) this.drop(s, 'no CONNECT in time');
      else if (s.keepaliveMs > 0 && now - s.lastHeardMs >= 1.5 * s.keepaliveMs) this.drop(s, 'keepalive expired');
      else if (s.drainSinceMs !== 0 && now - s.drainSinceMs >= this.drainTimeoutMs) this.drop(s, 'not reading (drain timeout)');
    }
  };

  /** A session's handle closed (its owner's close callback). */
  handleGone(): void {
    if (--this.handles === 0 && this.allGone !== undefined) this.allGone();
  }

  /** Closes every session; resolves when every accepted handle has closed. */
  destroyAll(): Promise<void> {
    for (const s of [...this.sessions]) {
      s.destroy();
      this.ended(s);
    }
    return this.handles === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.allGone = resolve));
  }
}

export async function startLeanBroker(store: DeviceStore, opts: BrokerOptions): Promise<Broker> {
  const broker = new LeanBroker(new BrokerPolicy(store, opts.operator, opts.fleetOps), opts.log, opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
  const server = await listenRawTcp(opts.host, opts.port, LISTEN_BACKLOG, broker.accept, (code) => opts.log(`mqtt accept failed: ${code}`));
  const sweep = setInterval(broker.sweep, SWEEP_EVERY_MS);
  sweep.unref();
  const port = server.port;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost(opts.host)}:${port}`,
    port,
    connectedClients: () => broker.connected,
    publishCommand(deviceId, payload) {
      broker.deliver(commandsTopic(deviceId), Buffer.from(payload), 1);
    },
    sendCommand(deviceId, payload, qos = 1) {
      broker.deliver(commandsTopic(deviceId), typeof payload === 'string' ? Buffer.from(payload) : payload, qos);
      return Promise.resolve();
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        await Promise.all([server.close(), broker.destroyAll()]);
      })();
      return closing;
    },
  };
}
