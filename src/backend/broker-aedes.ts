import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { commandsTopic } from '../wire/reference-protocol.js';
import { BrokerPolicy, type BrokerIdentity } from './broker-policy.js';
import { type Broker, type BrokerOptions, CONNECT_TIMEOUT_MS, DRAIN_TIMEOUT_MS, LISTEN_BACKLOG, urlHost } from './broker.js';
import type { DeviceStore } from './store.js';

/**
 * The embedded broker on aedes (`broker: aedes`), kept as the reference the lean broker is measured
 * and tested against. Policy (logins, topics, counting) is broker-policy.ts.
 *
 * Guard against an aedes crash seen in round 1's load tests (a stack overflow inside mqemitter when a busy
 * subscriber disconnected while publishers kept sending): no device ever holds a wildcard
 * subscription, so telemetry is fanned out only to an operator's subscriber; `close()` stops
 * accepting, destroys every socket first and only then closes aedes, so no publish runs into a
 * half-closed subscriber during shutdown.
 *
 * Concurrency: everything runs on the event loop of the thread that started it.
 */

/** CONNACK return code of MQTT 3.1.1 (aedes' AuthErrorCode is a const enum, unusable at runtime here). */
const RC_BAD_USERNAME_OR_PASSWORD = 4;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const asBuffer = (p: Buffer | string): Buffer => (typeof p === 'string' ? Buffer.from(p) : p);

export async function startAedesBroker(store: DeviceStore, opts: BrokerOptions): Promise<Broker> {
  // Who each session logged in as. The identity comes from the credentials, not the client id,
  // so a target that needs client ids unique across runs may prefix them.
  const identities = new WeakMap<Client, BrokerIdentity>();
  const policy = new BrokerPolicy(store, opts.operator, opts.fleetOps);
  const aedes = await Aedes.createBroker({
    // A frozen subscriber must not stall delivery to everyone for aedes' default 60 s.
    drainTimeout: DRAIN_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    authenticate(client, username, password, done) {
      const who = policy.login(username, password?.toString('utf8'));
      if (who === undefined) return done(authError('bad login', RC_BAD_USERNAME_OR_PASSWORD), null);
      identities.set(client, who);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null only for a will left by a session that is gone: refused.
      if (!policy.publish(client === null ? undefined : identities.get(client), packet.topic, asBuffer(packet.payload))) return done(new Error('topic outside fleet/<own id>/'));
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      // A null subscription is refused with SUBACK 0x80 and the session stays open.
      const who = identities.get(client);
      done(null, who !== undefined && policy.subscribe(who, sub.topic) ? sub : null);
    },
  });

  aedes.on('client', (client: Client) => {
    const who = identities.get(client);
    if (who !== undefined && who !== 'operator') who.online = true;
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const who = identities.get(client);
    if (who !== undefined && who !== 'operator') who.online = false;
  });
  aedes.on('subscribe', (subs, client: Client) => {
    const who = client ? identities.get(client) : undefined;
    if (who !== undefined) for (const s of subs) policy.subscribed(who, s.topic);
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
      const packet: PublishPacket = { cmd: 'publish', topic: commandsTopic(deviceId), payload: asBuffer(payload), qos, retain: false, dup: false };
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

/**
 * Serves `aedes` on a plain TCP listener with LISTEN_BACKLOG, or a TLS one when `tlsOptions` are
 * given (aedes then sees each connection once its handshake is done); when it cannot listen,
 * closes aedes and rejects.
 */
export async function listenAedes(aedes: Aedes, host: string, port: number, tlsOptions?: tls.TlsOptions): Promise<AedesListener> {
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  };
  let server: net.Server;
  if (tlsOptions === undefined) {
    server = net.createServer(onSocket);
  } else {
    const secure = tls.createServer(tlsOptions, onSocket);
    // A handshake that fails (no or an unknown client certificate) never reaches aedes.
    secure.on('tlsClientError', (_err, socket) => socket.destroy());
    // Raw connections too: one still in its handshake must not keep close() waiting.
    secure.on('connection', (raw: net.Socket) => {
      sockets.add(raw);
      raw.once('close', () => sockets.delete(raw));
    });
    server = secure;
  }
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
