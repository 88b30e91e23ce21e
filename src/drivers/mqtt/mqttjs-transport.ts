/**
 * The mqtt.js transport: one MQTT.js client per connected device. It is the reference
 * implementation (the most widely used Node MQTT client, every protocol corner handled); the lean
 * transport is the one that scales. Reconnect is disabled (`reconnectPeriod: 0`): the simulator
 * owns the reconnect policy, with its own backoff and jitter.
 *
 * mqtt.js's TCP connector ignores `localAddress`, so clients are built with our own stream
 * builder (the `new MqttClient(streamBuilder, options)` form), which passes it to net/tls.
 *
 * Per connection there is one small MqttjsSession object; its listeners are shared module-level
 * functions that find it on the client (`this[kSession]`), plus one bound ack callback. Nothing is
 * allocated per event by this file (mqtt.js itself allocates per packet).
 *
 * Concurrency: single thread. Callbacks come from mqtt.js events, never from inside a method here.
 * After `close()` no callback is made.
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import { LOST_CLOSED_BY_BROKER, LOST_KEEPALIVE_TIMEOUT, MQTT_NET_CODE_BASE, NET_RESET, NET_TIMEOUT, type ClientIdentity, type MqttConnectOptions, type MqttSubscription, type MqttTransport, type MqttTransportEvents, type MqttTransportFactoryOptions } from '../types.js';
import { lostCause, netCause } from '../net-cause.js';
import { type BrokerAddress, connectBrokerSocket, parseBrokerUrl } from './broker-address.js';

const kSession = Symbol('fleetsim.mqttjsSession');

/**
 * mqtt.js is loaded by the first MqttjsTransport, not when this module is imported: every shard
 * process imports the transports, most run only the lean one, and loading mqtt.js costs a shard
 * process ~3.6 MB (bench/RESULTS.md, "250,000 connected devices"). `require` keeps construction
 * synchronous; it loads the same CommonJS build an `import` of 'mqtt' resolves to in Node.
 */
let mqttClientClass: typeof MqttClient | undefined;
function loadMqttClient(): typeof MqttClient {
  mqttClientClass ??= (createRequire(import.meta.url)('mqtt') as typeof import('mqtt')).MqttClient;
  return mqttClientClass;
}

type SessionClient = MqttClient & { [kSession]?: MqttjsSession };

/** Options handed to MqttClient; the stream builder reads the socket fields back from them. */
interface SessionOptions extends IClientOptions {
  fleetsimAddress: BrokerAddress;
  fleetsimLocalAddress?: string;
  fleetsimIdentity?: ClientIdentity;
}

/** Per-connection state. `done` turns true once the session's final callback was made (or suppressed). */
class MqttjsSession {
  connected = false;
  done = false;
  /** Last error mqtt.js reported: CONNACK return code, or MQTT_NET_CODE_BASE - a pseudo-status (drivers/types.ts). */
  failCode = MQTT_NET_CODE_BASE - NET_RESET;
  reason: string | null = null;
  /** Why the session ended once it was up (a LOST_* constant): the broker closed it, unless an error came first. */
  lostCause = LOST_CLOSED_BY_BROKER;
  /** mqtt.js message id -> caller token for QoS 1 publishes in flight. */
  readonly tokens = new Map<number, number>();
  readonly onPublishDone: (err?: Error, packet?: { messageId?: number }) => void;
  /** Subscriptions asked for with the CONNECT (MqttConnectOptions.subscribe), sent when CONNACK accepts it. */
  subscribe: readonly MqttSubscription[] | undefined = undefined;

  constructor(
    readonly dev: number,
    readonly owner: MqttjsTransport,
    readonly client: SessionClient,
  ) {
    this.onPublishDone = onPublishDone.bind(this);
    client[kSession] = this;
  }
}

export class MqttjsTransport implements MqttTransport {
  readonly name = 'mqttjs';
  private readonly address: BrokerAddress;
  private readonly connectTimeoutMs: number;
  private readonly clientClass: typeof MqttClient;
  private readonly sessions: (MqttjsSession | undefined)[] = [];
  /** Sessions ended by `disconnect()` whose sockets have not closed yet. */
  private readonly lingering = new Set<MqttjsSession>();
  private highWater = 0;
  private connected = 0;
  private openStreams = 0;
  private closing: Promise<void> | null = null;
  private resolveClosed: (() => void) | null = null;

  constructor(
    opts: MqttTransportFactoryOptions,
    readonly events: MqttTransportEvents,
  ) {
    this.address = parseBrokerUrl(opts.url, opts.tls);
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.clientClass = loadMqttClient();
  }

  /** Ignored (no callback) while the device already has a session open or opening, and after close(). */
  connect(dev: number, opts: MqttConnectOptions): void {
    if (this.closing !== null || this.sessions[dev] !== undefined) return;
    const options: SessionOptions = {
      clientId: opts.clientId,
      username: opts.username,
      password: opts.password,
      keepalive: opts.keepalive,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: this.connectTimeoutMs,
      manualConnect: true,
      fleetsimAddress: this.address,
      fleetsimLocalAddress: opts.localAddress,
      fleetsimIdentity: opts.identity,
    };
    // The caller pings: mqtt.js's keepalive manager gets a timer that never fires, so it neither
    // pings nor times out, while CONNECT still carries `keepalive` for the broker to enforce.
    if (opts.callerPings === true) options.timerVariant = SILENT_TIMER;
    const client: SessionClient = new this.clientClass(buildStream, options);
    const session = new MqttjsSession(dev, this, client);
    // mqtt.js writes nothing before CONNACK: these go when it arrives, before onConnect is reported.
    session.subscribe = opts.subscribe;
    client.on('connect', onClientConnect);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    client.on('message', onClientMessage);
    if (opts.callerPings === true) client.on('packetreceive', onClientPacket);
    this.sessions[dev] = session;
    if (dev >= this.highWater) this.highWater = dev + 1;
    try {
      client.connect();
    } catch (err) {
      // net throws synchronously for an invalid localAddress: report it on a later tick, under the
      // same cause the lean transport gives it.
      this.retire(session);
      const code = MQTT_NET_CODE_BASE - netCause(err);
      setImmediate(() => {
        if (this.closing === null) this.events.onConnect(dev, false, code);
      });
    }
  }

  publish(dev: number, topic: string, payload: Buffer, qos: 0 | 1, token: number): boolean {
    const session = this.sessions[dev];
    if (session === undefined || !session.connected || session.client.disconnecting) return false;
    // mqtt.js keeps the buffer (its write queue, the QoS 1 store) past this call; payloads may be reused.
    payload = Buffer.from(payload);
    if (qos === 0) {
      session.client.publish(topic, payload, { qos: 0 });
      return true;
    }
    session.client.publish(topic, payload, { qos: 1 }, session.onPublishDone);
    // With reconnect off the store queue is never in use, so the id was allocated synchronously.
    session.tokens.set(session.client.getLastMessageId(), token);
    return true;
  }

  /** Sends SUBSCRIBE; ignored when the device has no open session. */
  subscribe(dev: number, topic: string, qos: 0 | 1): void {
    const session = this.sessions[dev];
    if (session === undefined || !session.connected) return;
    session.client.subscribe(topic, { qos });
  }

  /**
   * Sends DISCONNECT and ends the socket. No callback follows, not even for QoS 1 messages still
   * in flight. A connect still waiting for CONNACK is cancelled silently.
   */
  disconnect(dev: number): void {
    const session = this.sessions[dev];
    if (session === undefined) return;
    this.retire(session);
    const { client } = session;
    if (!client.connected) {
      client.end(true);
      return;
    }
    // end(false) would wait for every in-flight message to be acked; those tokens are the caller's now.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    this.lingering.add(session);
    client.end(false);
  }

  ping(dev: number): boolean {
    const session = this.sessions[dev];
    if (session === undefined || !session.connected || session.client.disconnecting) return false;
    session.client.sendPing();
    return true;
  }

  isConnected(dev: number): boolean {
    return this.sessions[dev]?.connected === true;
  }

  connectedCount(): number {
    return this.connected;
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    for (let dev = 0; dev < this.highWater; dev++) {
      const session = this.sessions[dev];
      if (session === undefined) continue;
      this.retire(session);
      session.client.end(true);
    }
    // Gracefully disconnected sessions whose broker has not closed the socket yet.
    for (const session of this.lingering) session.client.stream.destroy();
    if (this.openStreams === 0) this.resolveClosed!();
    return this.closing;
  }

  // ---- called by the shared listeners ----

  streamOpened(): void {
    this.openStreams++;
  }

  streamClosed(session: MqttjsSession): void {
    this.openStreams--;
    this.lingering.delete(session);
    if (this.closing !== null && this.openStreams === 0) this.resolveClosed!();
  }

  sessionConnected(session: MqttjsSession): void {
    if (session.done) return;
    session.connected = true;
    this.connected++;
    const subs = session.subscribe;
    if (subs !== undefined) for (const sub of subs) session.client.subscribe(sub.topic, { qos: sub.qos });
    this.events.onConnect(session.dev, true, 0);
  }

  sessionClosed(session: MqttjsSession): void {
    if (session.done) return;
    const wasConnected = session.connected;
    this.retire(session);
    if (wasConnected) this.events.onConnectionLost(session.dev, session.reason ?? 'connection closed by broker', session.lostCause);
    else this.events.onConnect(session.dev, false, session.failCode);
  }

  /** Ends the session's life as far as callers are concerned: no callback about it after this. */
  private retire(session: MqttjsSession): void {
    if (session.done) return;
    session.done = true;
    if (session.connected) this.connected--;
    session.connected = false;
    session.tokens.clear();
    if (this.sessions[session.dev] === session) this.sessions[session.dev] = undefined;
  }
}

/** mqtt.js stream builder: plain TCP or TLS, honouring localAddress. */
function buildStream(client: MqttClient): net.Socket {
  const options = client.options as SessionOptions;
  const session = (client as SessionClient)[kSession]!;
  const socket = connectBrokerSocket(options.fleetsimAddress, options.fleetsimLocalAddress, undefined, session.dev, options.fleetsimIdentity);
  session.owner.streamOpened();
  socket.once('close', onStreamClose.bind(session));
  return socket;
}

function onStreamClose(this: MqttjsSession): void {
  this.owner.streamClosed(this);
}

function onClientConnect(this: SessionClient): void {
  const session = this[kSession]!;
  session.owner.sessionConnected(session);
}

/** The message of the Error mqtt.js emits when no CONNACK came within connectTimeout (mqtt 5.x client.js). */
const CONNACK_TIMEOUT_MESSAGE = 'connack timeout';
/** mqtt.js's own PINGRESP deadline (client.js), a plain Error without a code. */
const KEEPALIVE_TIMEOUT_MESSAGE = 'Keepalive timeout';

function onClientError(this: SessionClient, err: Error & { code?: number | string }): void {
  const session = this[kSession]!;
  // A numeric code is the CONNACK return code of a refusal; strings are errno codes (ECONNREFUSED).
  if (!session.connected) {
    // mqtt.js reports its own CONNACK timer as a plain Error with this message and no code.
    const cause = err.message === CONNACK_TIMEOUT_MESSAGE ? NET_TIMEOUT : netCause(err);
    session.failCode = typeof err.code === 'number' ? err.code : MQTT_NET_CODE_BASE - cause;
  } else session.lostCause = err.message === KEEPALIVE_TIMEOUT_MESSAGE ? LOST_KEEPALIVE_TIMEOUT : lostCause(err);
  session.reason = typeof err.code === 'string' ? err.code : err.message;
}

function onClientClose(this: SessionClient): void {
  const session = this[kSession]!;
  session.owner.sessionClosed(session);
}

function onClientMessage(this: SessionClient, topic: string, payload: Buffer): void {
  const session = this[kSession]!;
  if (!session.done) session.owner.events.onMessage?.(session.dev, topic, payload);
}

/** Every packet of a session whose caller pings: a PINGRESP is reported (mqtt.js emits no event of its own for it). */
function onClientPacket(this: SessionClient, packet: { cmd: string }): void {
  if (packet.cmd !== 'pingresp') return;
  const session = this[kSession]!;
  if (!session.done) session.owner.events.onPingResponse?.(session.dev);
}

/**
 * The timer mqtt.js's KeepaliveManager schedules with, for sessions whose caller pings: it never
 * fires (mqtt 5.x pings after a keepalive of silence and gives up half a keepalive later, from
 * that timer alone).
 */
const SILENT_TIMER = { set: (() => 0) as unknown as typeof setInterval, clear: (() => {}) as unknown as typeof clearInterval } as unknown as NonNullable<IClientOptions['timerVariant']>;

/** mqtt.js publish callback for QoS 1; `this` is the session. Errors are not acks: the session's loss reports them. */
function onPublishDone(this: MqttjsSession, err?: Error, packet?: { messageId?: number }): void {
  if (err !== undefined && err !== null) return;
  if (this.done || packet?.messageId === undefined) return;
  const token = this.tokens.get(packet.messageId);
  if (token === undefined) return;
  this.tokens.delete(packet.messageId);
  this.owner.events.onPublishAck(this.dev, token);
}
