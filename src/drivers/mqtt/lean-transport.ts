/**
 * The lean MQTT 3.1.1 transport: built to hold 100k+ idle sessions in one process.
 *
 * Per-device state lives in typed arrays indexed by `dev`; the only per-device objects are the
 * socket and its LeanConnection, and they exist only while a session is open. There is no timer
 * per connection: one sweep timer per transport (lean-session-sweep.ts) handles CONNACK timeouts,
 * PINGREQ on idle sessions, PINGRESP timeouts and sockets lingering after a graceful disconnect.
 * A session whose caller pings (`callerPings`: the fleet's keepalive over the modelled link) gets
 * no PINGREQ or PINGRESP deadline from the sweep; `ping` writes its PINGREQs.
 *
 * Writes made while one socket read is being handled (an ack that triggers the next publish) are
 * batched: frames for the socket being read are encoded into one WriteBatch and leave in one
 * write once the read is done; any other socket written meanwhile is corked until then. A read
 * carrying fifty PUBACKs costs one write, not fifty.
 *
 * Concurrency: everything runs on the owning thread. Callbacks are made only from socket events
 * and the sweep timer, never from inside a method of this class. After `close()` no callback is made.
 */
import { performance } from 'node:perf_hooks';
import { BAD_RESPONSE, LOST_KEEPALIVE_TIMEOUT, LOST_PROTOCOL, MQTT_NET_CODE_BASE, NET_TIMEOUT, type ClientIdentity, type MqttConnectOptions, type MqttTransport, type MqttTransportEvents, type MqttTransportFactoryOptions } from '../types.js';
import { lostCause, netCause } from '../net-cause.js';
import { type BrokerAddress, connectBrokerSocket, parseBrokerUrl } from './broker-address.js';
import { decodeFrames } from '../../wire/mqtt-frame-decoder.js';
import {
  DISCONNECT_FRAME,
  PINGREQ_FRAME,
  PacketType,
  connectWithSubscriptions,
  encodeConnect,
  encodePuback,
  encodeSubscribe,
  publishFrameLength,
  writePublish,
} from './lean-frames.js';
import { releasePacketId, reservePacketId } from './lean-inflight.js';
import { WriteBatch } from './lean-write-batch.js';
import { LINGER_AT_CLOSE_MS, LeanSessionSweep } from './lean-session-sweep.js';
import { RawTcpSocket, rawTcpEligible } from './raw-tcp-socket.js';
import {
  CONNECTED,
  CONNECTING,
  IDLE,
  LeanConnection,
  type LeanConnectionOwner,
  type LeanSocket,
  onSocketClose,
  onSocketData,
  onSocketError,
  onSocketRead,
  sharedReadBuffer,
} from './lean-connection.js';

const SHARED_READ = { buffer: sharedReadBuffer, callback: onSocketRead };
/**
 * FLEETSIM_RAW_TCP=0 keeps every session on net.Socket (to compare, or should a Node release
 * change the bindings raw-tcp-socket.ts uses).
 */
const RAW_TCP = process.env.FLEETSIM_RAW_TCP !== '0';

export class LeanMqttTransport implements MqttTransport, LeanConnectionOwner {
  readonly name = 'lean';
  private readonly address: BrokerAddress;
  /** Session state by device: IDLE, CONNECTING, CONNECTED (lean-connection.ts). */
  private readonly state: Uint8Array;
  private readonly conns: (LeanConnection | undefined)[] = [];
  /** Connections detached by `disconnect()` whose sockets have not closed yet. */
  private readonly lingering = new Set<LeanConnection>();
  /** Frames for the connection being read, sent when the read has been handled. */
  private readonly batch = new WriteBatch();
  /** Other sockets the current read wrote to, corked until the read has been handled. */
  private readonly corked: LeanConnection[] = [];
  /** Timeouts, keepalive and lingering sockets: one periodic pass, with its per-device timing. */
  private readonly sweep: LeanSessionSweep;
  private connected = 0;
  private live = 0;
  private openSockets = 0;
  private reading = false;
  private closing: Promise<void> | null = null;
  private resolveClosed: (() => void) | null = null;
  /** Ends the sockets still lingering LINGER_AT_CLOSE_MS after close(). */
  private lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    opts: MqttTransportFactoryOptions,
    private readonly events: MqttTransportEvents,
  ) {
    this.address = parseBrokerUrl(opts.url, opts.tls);
    this.state = new Uint8Array(opts.devices);
    this.sweep = new LeanSessionSweep(opts.devices, opts.connectTimeoutMs, {
      state: this.state,
      conns: this.conns,
      lingering: this.lingering,
      drop: (conn, reason, cause) => this.drop(conn, reason, cause),
    });
  }

  /** Ignored (no callback) while the device already has a session open or opening, and after close(). */
  connect(dev: number, opts: MqttConnectOptions): void {
    if (this.closing !== null || this.state[dev] !== IDLE) return;
    // First: a bad field throws before a socket exists. Subscriptions asked for with the CONNECT
    // leave in the same write (one syscall, one wake-up of the broker, one CONNACK+SUBACK read back).
    const subs = opts.subscribe;
    const pipelined = subs !== undefined && subs.length > 0;
    const firstWrite = pipelined ? connectWithSubscriptions(encodeConnect(opts), subs) : encodeConnect(opts);
    let socket: LeanSocket;
    try {
      socket = this.openSocket(opts.localAddress, dev, opts.identity);
    } catch (err) {
      // e.g. an invalid localAddress, thrown synchronously by net: report on a later tick.
      const code = MQTT_NET_CODE_BASE - netCause(err);
      setImmediate(() => {
        if (this.closing === null && this.state[dev] === IDLE) this.events.onConnect(dev, false, code);
      });
      return;
    }
    const conn = new LeanConnection(dev, this, socket);
    this.conns[dev] = conn;
    this.state[dev] = CONNECTING;
    // A session whose caller pings has no keepalive here: the sweep neither pings nor times out.
    const ownKeepalive = opts.callerPings === true ? 0 : opts.keepalive;
    this.sweep.opened(dev, ownKeepalive);
    this.openSockets++;
    this.live++;
    if (pipelined) for (let i = 0; i < subs.length; i++) reservePacketId(conn, Number.NaN); // ids 1..n, as encoded
    // Written before the TCP handshake completes; net queues it until then.
    this.write(conn, firstWrite);
    this.sweep.ensure(ownKeepalive);
  }

  publish(dev: number, topic: string, payload: Buffer, qos: 0 | 1, token: number): boolean {
    if (this.state[dev] !== CONNECTED) return false;
    const conn = this.conns[dev]!;
    const topicLength = Buffer.byteLength(topic, 'utf8');
    const length = publishFrameLength(topicLength, payload.length, qos);
    if (length < 0) throw new RangeError(`MQTT message too large for one PUBLISH (topic "${topic}", ${payload.length} bytes)`);
    let packetId = 0;
    if (qos === 1) {
      packetId = reservePacketId(conn, token);
      if (packetId === 0) return false; // 65,535 messages in flight on this session: the caller keeps this one
    }
    if (this.batch.conn === conn) {
      const at = this.batch.reserve(length);
      writePublish(this.batch.arena, at, topic, topicLength, payload, qos, packetId);
      this.sweep.wrote[dev] = 1;
    } else {
      const frame = Buffer.allocUnsafe(length);
      writePublish(frame, 0, topic, topicLength, payload, qos, packetId);
      this.write(conn, frame);
    }
    return true;
  }

  /** Sends SUBSCRIBE; ignored when the device has no open session. The SUBACK is consumed silently. */
  subscribe(dev: number, topic: string, qos: 0 | 1): void {
    if (this.state[dev] !== CONNECTED) return;
    const conn = this.conns[dev]!;
    const packetId = reservePacketId(conn, Number.NaN);
    if (packetId !== 0) this.write(conn, encodeSubscribe(packetId, topic, qos));
  }

  /**
   * Sends DISCONNECT and ends the socket. No callback follows, not even for QoS 1 messages still
   * in flight (their tokens go back to the caller as with a lost session). A connect still waiting
   * for CONNACK is cancelled silently.
   */
  disconnect(dev: number): void {
    const st = this.state[dev];
    if (st === IDLE) return;
    const conn = this.conns[dev]!;
    if (this.batch.conn === conn) this.batch.flush(); // frames published before the DISCONNECT go first
    this.detach(conn);
    if (st === CONNECTED) {
      conn.closingSinceMs = performance.now();
      this.lingering.add(conn);
      // The pass may be idle (every session pinged by its caller): it must run to end this socket
      // should the broker never close it.
      this.sweep.ensure(0);
      // No FIN from here: the broker closes first on DISCONNECT (MQTT 3.1.1 §3.14.4), so the
      // TIME_WAIT stays on its side (see LINGER_AT_CLOSE_MS). The sweep ends the socket should it not.
      conn.socket.write(DISCONNECT_FRAME);
    } else {
      conn.socket.destroy();
    }
  }

  ping(dev: number): boolean {
    if (this.state[dev] !== CONNECTED) return false;
    this.write(this.conns[dev]!, PINGREQ_FRAME);
    return true;
  }

  isConnected(dev: number): boolean {
    return this.state[dev] === CONNECTED;
  }

  connectedCount(): number {
    return this.connected;
  }

  /** True while the session sweep's timer runs (tests, diagnostics): none while every open session is pinged by its caller. */
  get sweeping(): boolean {
    return this.sweep.running;
  }

  /**
   * Destroys every open session's socket, gives sessions that sent DISCONNECT up to
   * LINGER_AT_CLOSE_MS for the broker to close them, then destroys what is left; resolves once all
   * sockets have closed. No callback is made after this is called.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    this.sweep.stop();
    for (let dev = 0; dev < this.sweep.highWater; dev++) {
      const conn = this.conns[dev];
      if (conn === undefined) continue;
      this.detach(conn);
      conn.socket.destroy();
    }
    if (this.lingering.size > 0) {
      this.lingerTimer = setTimeout(() => {
        for (const conn of this.lingering) conn.socket.destroy();
      }, LINGER_AT_CLOSE_MS);
    }
    if (this.openSockets === 0) this.closed();
    return this.closing;
  }

  private closed(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.resolveClosed!();
  }

  // ---- LeanConnectionOwner: called from the shared socket listeners ----

  onBytes(conn: LeanConnection, buf: Buffer, start: number, end: number): void {
    if (!conn.live) return;
    this.reading = true;
    this.batch.begin(conn);
    const wellFormed = decodeFrames(conn, buf, start, end, conn);
    this.batch.finish();
    this.reading = false;
    const corked = this.corked;
    for (let i = 0; i < corked.length; i++) {
      corked[i].corked = false;
      corked[i].socket.uncork();
    }
    corked.length = 0;
    if (!wellFormed && conn.live) this.drop(conn, 'malformed MQTT frame from broker');
  }

  onFrame(conn: LeanConnection, header: number, buf: Buffer, start: number, end: number): boolean {
    if (!conn.live || this.closing !== null) return false;
    const dev = conn.dev;
    this.sweep.pingSentMs[dev] = 0; // any packet shows the broker is alive
    const type = header >>> 4;
    if (this.state[dev] === CONNECTING) {
      if (type !== PacketType.CONNACK || end - start < 2) {
        this.drop(conn, `expected CONNACK, got packet type ${type}`);
        return false;
      }
      return this.onConnack(conn, buf[start + 1]);
    }
    switch (type) {
      case PacketType.PUBACK: {
        const token = releasePacketId(conn, (buf[start] << 8) | buf[start + 1]);
        // NaN marks a SUBSCRIBE's id: a PUBACK for it is a broker bug, not an ack of ours.
        if (token !== undefined && token === token) this.events.onPublishAck(dev, token);
        return conn.live;
      }
      case PacketType.SUBACK:
        releasePacketId(conn, (buf[start] << 8) | buf[start + 1]);
        return true;
      case PacketType.PINGRESP:
        this.events.onPingResponse?.(dev);
        return conn.live;
      case PacketType.UNSUBACK:
        return true;
      case PacketType.PUBLISH:
        return this.onIncomingPublish(conn, header, buf, start, end);
      default:
        this.drop(conn, `unexpected MQTT packet type ${type} from broker`);
        return false;
    }
  }

  onSocketClosed(conn: LeanConnection): void {
    this.openSockets--;
    if (conn.closingSinceMs !== 0) this.lingering.delete(conn);
    if (this.closing !== null) {
      if (this.openSockets === 0) this.closed();
      return;
    }
    if (!conn.live) return;
    const wasConnected = this.state[conn.dev] === CONNECTED;
    this.detach(conn);
    if (wasConnected) this.events.onConnectionLost(conn.dev, conn.error ?? 'connection closed by broker', lostCause(conn.error));
    else this.events.onConnect(conn.dev, false, MQTT_NET_CODE_BASE - netCause(conn.error));
  }

  // ---- internals ----

  /**
   * A raw socket for plain TCP to an IP literal (raw-tcp-socket.ts: ~850 bytes of heap less per
   * session than a net.Socket); net otherwise. Either way the connection is attached by the
   * caller before any event of the socket can arrive (they come on later turns of the loop).
   */
  private openSocket(localAddress: string | undefined, dev: number, identity: ClientIdentity | undefined): LeanSocket {
    const { host, port, tls } = this.address;
    if (!tls && RAW_TCP && rawTcpEligible(host, localAddress)) return new RawTcpSocket(host, port, localAddress);
    const socket = connectBrokerSocket(this.address, localAddress, SHARED_READ, dev, identity);
    if (tls) socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    return socket;
  }

  private onConnack(conn: LeanConnection, returnCode: number): boolean {
    const dev = conn.dev;
    if (returnCode === 0) {
      this.state[dev] = CONNECTED;
      this.sweep.established(dev);
      this.connected++;
      this.events.onConnect(dev, true, 0);
      return conn.live;
    }
    this.detach(conn);
    conn.socket.destroy();
    this.events.onConnect(dev, false, returnCode);
    return false;
  }

  private onIncomingPublish(conn: LeanConnection, header: number, buf: Buffer, start: number, end: number): boolean {
    const qos = (header >>> 1) & 3;
    const topicEnd = start + 2 + ((buf[start] << 8) | buf[start + 1]);
    const payloadStart = topicEnd + (qos > 0 ? 2 : 0);
    if (qos === 2 || payloadStart > end) {
      // fleetsim never subscribes with QoS 2, so a QoS 2 delivery is a broker bug.
      this.drop(conn, 'malformed or QoS 2 PUBLISH from broker');
      return false;
    }
    if (qos === 1) this.write(conn, encodePuback((buf[topicEnd] << 8) | buf[topicEnd + 1]));
    const onMessage = this.events.onMessage;
    if (onMessage === undefined) return true;
    const topic = buf.toString('utf8', start + 2, topicEnd);
    // Copied: `buf` is the shared read buffer, overwritten by the next read.
    onMessage.call(this.events, conn.dev, topic, Buffer.from(buf.subarray(payloadStart, end)));
    return conn.live;
  }

  private write(conn: LeanConnection, frame: Buffer): void {
    this.sweep.wrote[conn.dev] = 1;
    if (this.batch.conn === conn) {
      this.batch.append(frame);
      return;
    }
    if (this.reading && !conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      this.corked.push(conn);
    }
    conn.socket.write(frame);
  }

  /** Makes `conn` no longer the device's connection (the socket itself is the caller's business). */
  private detach(conn: LeanConnection): void {
    if (!conn.live) return;
    conn.live = false;
    const dev = conn.dev;
    const wasConnected = this.state[dev] === CONNECTED;
    if (wasConnected) this.connected--;
    this.sweep.ended(dev, wasConnected);
    this.state[dev] = IDLE;
    this.conns[dev] = undefined;
    this.live--;
  }

  /**
   * Tears down a live connection for a reason found by the transport and reports it. `cause`:
   * NET_TIMEOUT (the sweep's CONNACK or PINGRESP deadline) or BAD_RESPONSE (what the broker sent).
   */
  private drop(conn: LeanConnection, reason: string, cause: number = BAD_RESPONSE): void {
    const wasConnected = this.state[conn.dev] === CONNECTED;
    this.detach(conn);
    conn.socket.destroy();
    if (wasConnected) this.events.onConnectionLost(conn.dev, reason, cause === NET_TIMEOUT ? LOST_KEEPALIVE_TIMEOUT : LOST_PROTOCOL);
    else this.events.onConnect(conn.dev, false, MQTT_NET_CODE_BASE - cause);
  }
}
