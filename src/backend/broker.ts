import net from 'node:net';
import { once } from 'node:events';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { TOPIC_ROOT, commandsTopic, telemetryTopic } from '../wire/reference-protocol.js';
import { logsTopic, responsesTopic } from '../wire/fleet-ops.js';
import type { DeviceRecord, DeviceStore } from './store.js';

/**
 * The embedded backend's MQTT broker: aedes on a plain TCP server. Devices log in with
 * username = deviceId and password = deviceKey (any client id), and may publish and
 * subscribe only under `fleet/<ownDeviceId>/`, never with wildcards. A refused publish closes the
 * session (MQTT 3.1.1 has no negative PUBACK); a refused subscription gets SUBACK 0x80 and the
 * session stays. Both are counted in the store (`refused`), which /v1/stats/devices and the
 * report show. Telemetry is counted per device as it is authorised (before the PUBACK is
 * written), so "acked" always implies "counted".
 *
 * The operator (only when `operator` credentials are given) may subscribe to anything, wildcards
 * included, to watch the traffic with their own client; it may not publish.
 *
 * Guard against the aedes crash DESIGN.md records (a stack overflow inside mqemitter when a busy
 * subscriber disconnected while publishers kept sending): no device ever holds a wildcard
 * subscription, so telemetry is fanned out only to an operator's subscriber, which the user
 * asked for; `close()` stops accepting,
 * destroys every socket first and only then closes aedes, so no publish runs into a half-closed
 * subscriber during shutdown.
 *
 * Concurrency: everything runs on the event loop of the process that started it.
 */

export interface Broker {
  readonly url: string;
  readonly port: number;
  /** Publishes `payload` to `fleet/<deviceId>/commands` on behalf of the backend. */
  sendCommand(deviceId: string, payload: Buffer | string, qos?: 0 | 1): Promise<void>;
  /** The same, fire and forget (QoS 1), for fleet operations that publish to many devices at once. */
  publishCommand(deviceId: string, payload: string): void;
  connectedClients(): number;
  close(): Promise<void>;
}

export interface BrokerOptions {
  host: string;
  port: number;
  log: (line: string) => void;
  /** A login that may subscribe to every topic (watch-only); absent: nobody can. */
  operator?: OperatorCredential;
  /** Fleet operations: sessions, command answers and logs (backend/fleet-ops.ts). */
  fleetOps?: {
    onSubscribed(rec: DeviceRecord): void;
    onResponse(rec: DeviceRecord, payload: Buffer): void;
    onLogs(payload: Buffer): void;
  };
}

/**
 * Accept queue length asked of the kernel (capped by net.core.somaxconn). Node's default of 511
 * overflows when a factory line powers devices on at thousands per second while the event loop is
 * busy: the kernel then drops the handshake's last ACK and the device's CONNECT waits for a
 * retransmission (1 s, 3 s, 7 s ...), which is the backend's doing, not the device's.
 */
export const LISTEN_BACKLOG = 4096;

export interface OperatorCredential {
  username: string;
  password: string;
}

/** CONNACK return code of MQTT 3.1.1 (aedes' AuthErrorCode is a const enum, unusable at runtime here). */
const RC_BAD_USERNAME_OR_PASSWORD = 4;

const ROOT_PREFIX = TOPIC_ROOT + '/';
/** `/telemetry`: the part of a telemetry topic after `fleet/<id>`. */
const TELEMETRY_SUFFIX = telemetryTopic('x').slice(ROOT_PREFIX.length + 1);
const RESPONSES_SUFFIX = responsesTopic('x').slice(ROOT_PREFIX.length + 2);
const LOGS_SUFFIX = logsTopic('x').slice(ROOT_PREFIX.length + 2);

/** True when `topic` is `fleet/<deviceId>/<something>`. Allocation-free: it runs on every publish. */
export function isOwnTopic(topic: string, deviceId: string): boolean {
  const idEnd = ROOT_PREFIX.length + deviceId.length;
  return (
    topic.length > idEnd + 1 &&
    topic.startsWith(ROOT_PREFIX) &&
    topic.startsWith(deviceId, ROOT_PREFIX.length) &&
    topic.charCodeAt(idEnd) === 0x2f /* / */
  );
}

function isTelemetryTopic(topic: string, deviceId: string): boolean {
  return topic.length === ROOT_PREFIX.length + deviceId.length + TELEMETRY_SUFFIX.length && topic.endsWith(TELEMETRY_SUFFIX);
}

/** Compares secrets in time independent of where they differ (hashing first evens out the lengths). */
function sameSecret(a: string, b: string): boolean {
  const h = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(h(a), h(b));
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startBroker(store: DeviceStore, opts: BrokerOptions): Promise<Broker> {
  // The device each session logged in as. The identity comes from the credentials, not the
  // client id, so a target that needs client ids unique across runs may prefix them.
  const identities = new WeakMap<Client, DeviceRecord>();
  const operators = new WeakSet<Client>();
  const op = opts.operator;
  const refused = store.refused;
  const aedes = await Aedes.createBroker({
    // A frozen subscriber must not stall delivery to everyone for aedes' default 60 s.
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    authenticate(client, username, password, done) {
      if (op !== undefined && username === op.username) {
        if (password === undefined || !sameSecret(password.toString('utf8'), op.password)) return done(authError('bad operator password', RC_BAD_USERNAME_OR_PASSWORD), null);
        operators.add(client);
        return done(null, true);
      }
      const rec = username === undefined || password === undefined ? undefined : store.authenticate(username, password.toString('utf8'));
      if (rec === undefined) return done(authError('bad device id or key', RC_BAD_USERNAME_OR_PASSWORD), null);
      identities.set(client, rec);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null only for a will left by a session that is gone: refuse it.
      const rec = client === null ? undefined : identities.get(client);
      if (rec === undefined || !isOwnTopic(packet.topic, rec.id)) {
        if (client !== null) refused.publishes++;
        return done(new Error('topic outside fleet/<own id>/'));
      }
      if (isTelemetryTopic(packet.topic, rec.id)) countTelemetry(rec, packet.payload);
      else if (opts.fleetOps) {
        const suffix = packet.topic.slice(ROOT_PREFIX.length + rec.id.length + 1);
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        if (suffix === RESPONSES_SUFFIX) opts.fleetOps.onResponse(rec, payload);
        else if (suffix === LOGS_SUFFIX) opts.fleetOps.onLogs(payload);
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      // A null subscription is refused with SUBACK 0x80 and the session stays open.
      if (operators.has(client)) return done(null, sub);
      const rec = identities.get(client);
      const ok = rec !== undefined && !sub.topic.includes('#') && !sub.topic.includes('+') && isOwnTopic(sub.topic, rec.id);
      if (!ok) refused.subscribes++;
      done(null, ok ? sub : null);
    },
  });

  function countTelemetry(rec: DeviceRecord, payload: Buffer | string): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    store.countTelemetry(rec, bytes);
  }

  // Sessions: who is online, and a fresh subscription to the commands topic is when a device can
  // be told about a configuration or an update it missed.
  aedes.on('client', (client: Client) => {
    const rec = identities.get(client);
    if (rec) rec.online = true;
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const rec = identities.get(client);
    if (rec) rec.online = false;
  });
  aedes.on('subscribe', (subs, client: Client) => {
    const rec = client ? identities.get(client) : undefined;
    if (rec && opts.fleetOps && subs.some((s) => s.topic === commandsTopic(rec.id))) opts.fleetOps.onSubscribed(rec);
  });
  aedes.on('clientError', (client: Client, err: Error) => opts.log(`mqtt client ${client.id}: ${err.message}`));
  aedes.on('connectionError', (_client: Client, err: Error) => opts.log(`mqtt connection error: ${err.message}`));

  const listener = await listenAedes(aedes, opts.host, opts.port);
  const port = listener.port;

  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost(opts.host)}:${port}`,
    port,
    connectedClients: () => aedes.connectedClients,
    publishCommand(deviceId, payload) {
      aedes.publish({ cmd: 'publish', topic: commandsTopic(deviceId), payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, () => {});
    },
    sendCommand(deviceId, payload, qos = 1) {
      const packet: PublishPacket = {
        cmd: 'publish',
        topic: commandsTopic(deviceId),
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos,
        retain: false,
        dup: false,
      };
      return new Promise<void>((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
    },
    close() {
      closing ??= listener.close();
      return closing;
    },
  };
}

export interface AedesListener {
  readonly port: number;
  /** Stops accepting, destroys every socket, then closes aedes (so no publish runs into a half-closed subscriber). */
  close(): Promise<void>;
}

/** Serves `aedes` on a plain TCP listener with LISTEN_BACKLOG; when it cannot listen, closes aedes and rejects. */
export async function listenAedes(aedes: Aedes, host: string, port: number): Promise<AedesListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    server.listen({ port, host, backlog: LISTEN_BACKLOG });
    await once(server, 'listening');
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await serverClosed;
    },
  };
}

/** A host as it goes into a URL: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
