import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { urlHost } from '../../broker.js';
import { listenAedes } from '../../broker-aedes.js';
import { acceptAttributes, acceptTelemetry, attributesAnswer, packageChunk } from './device-api.js';
import type { TbDevice, ThingsboardState } from './state.js';

/**
 * The ThingsBoard fake's MQTT transport: aedes with its own hooks standing in for ThingsBoard's
 * MqttTransportHandler.java. Every device uses the same `v1/devices/me/...` topics, so nothing a
 * device sends is routed between clients: each SUBSCRIBE is granted under a private prefix no
 * one publishes to (the fake only remembers which filters the session asked for), uplinks are
 * consumed in `authorizePublish`, and the fake writes its answers and pushes straight to the
 * session with `client.publish` (aedes' documented per-client publish).
 *
 * Concurrency: the fake's event loop only.
 */

/**
 * CONNACK return codes of MQTT 3.1.1 as the MQTT API page lists them: 4 (bad username or password)
 * when the username is empty, 5 (not authorised) when it is not a known access token. (Current
 * sources map both onto 5 or 2 through ReturnCodeResolver.java; the fake follows the page.)
 */
const RC_BAD_USERNAME_OR_PASSWORD = 4;
const RC_NOT_AUTHORIZED = 5;

/** transport.mqtt.netty.max_payload_size default (thingsboard.yml): chunk sizes above it get PAYLOAD_TOO_LARGE. */
export const TB_MAX_PAYLOAD_SIZE = 65_536;
/** A provisioning session is closed this long after its answer (DeviceProvisionCallback schedules ctx.close in 60 s). */
export const PROVISION_SESSION_CLOSE_MS = 60_000;
/** Default timeout of a two-way server-side RPC (the platform's default, 10 s). */
export const RPC_TIMEOUT_MS = 10_000;

export const TOPICS = {
  telemetry: 'v1/devices/me/telemetry',
  attributes: 'v1/devices/me/attributes',
  attributesRequest: 'v1/devices/me/attributes/request/',
  attributesResponse: 'v1/devices/me/attributes/response/',
  attributesResponses: 'v1/devices/me/attributes/response/+',
  rpcRequest: 'v1/devices/me/rpc/request/',
  rpcRequests: 'v1/devices/me/rpc/request/+',
  rpcResponse: 'v1/devices/me/rpc/response/',
  rpcResponses: 'v1/devices/me/rpc/response/+',
  fwResponses: 'v2/fw/response/+/chunk/+',
  fwError: 'v2/fw/error',
  provisionRequest: '/provision/request',
  provisionResponse: '/provision/response',
} as const;

/** Filters a device session may subscribe to (MqttTransportHandler.processSubscribe; others get SUBACK 0x80). */
const DEVICE_FILTERS: ReadonlySet<string> = new Set([
  TOPICS.attributes, TOPICS.attributesResponses, TOPICS.rpcRequests, TOPICS.rpcResponses, TOPICS.fwResponses, TOPICS.fwError,
  'v2/sw/response/+/chunk/+', 'v2/sw/error',
]);

const FW_REQUEST = /^v2\/fw\/request\/(\d+)\/chunk\/(\d+)$/;

interface Session {
  readonly client: Client;
  readonly provisionOnly: boolean;
  readonly dev?: TbDevice;
  /** Granted QoS per filter the session subscribed to. */
  readonly subs: Map<string, number>;
  /** Chunk size per firmware request id (the platform remembers it when a later request omits it). */
  readonly chunkSizes: Map<string, number>;
  closeTimer?: NodeJS.Timeout;
}

export interface TbMqtt {
  readonly url: string;
  /** Pushes shared-attribute changes to the device's session when it subscribed to them; false when it could not. */
  pushAttributes(dev: TbDevice, changed: Record<string, unknown>): boolean;
  /** Sends a server-side RPC request; false when the device has no session subscribed to RPC requests. */
  pushRpc(dev: TbDevice, id: number, body: { method: string; params: unknown }): boolean;
  connectedClients(): number;
  close(): Promise<void>;
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export interface TbMqttOptions {
  host: string;
  port: number;
  log?: (line: string) => void;
  /** An RPC reply arrived for `id`; false when no such request is pending (shared with the HTTP side). */
  rpcReply(dev: TbDevice, id: number): boolean;
}

export async function startTbMqtt(state: ThingsboardState, opts: TbMqttOptions): Promise<TbMqtt> {
  const sessions = new WeakMap<Client, Session>();
  const live = new Map<TbDevice, Session>();
  let prefixSeq = 0;

  function send(s: Session, topic: string, payload: Buffer | string, qos: 0 | 1): void {
    const packet = { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos, retain: false, dup: false } as PublishPacket;
    s.client.publish(packet, () => {});
  }

  /** Granted QoS of the session's filter that matches `filter` exactly (devices subscribe to the documented filters). */
  const granted = (s: Session, filter: string): 0 | 1 | undefined => s.subs.get(filter) as 0 | 1 | undefined;

  const aedes = await Aedes.createBroker({
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    authenticate(client, username, password, done) {
      if (username === 'provision' || client.id === 'provision') {
        sessions.set(client, { client, provisionOnly: true, subs: new Map(), chunkSizes: new Map() });
        return done(null, true);
      }
      const dev = username === undefined ? undefined : state.byToken.get(username);
      if (dev === undefined) {
        state.refusedConnects++;
        const rc = username === undefined || username === '' ? RC_BAD_USERNAME_OR_PASSWORD : RC_NOT_AUTHORIZED;
        return done(authError('empty or unknown access token', rc), null);
      }
      const s: Session = { client, provisionOnly: false, dev, subs: new Map(), chunkSizes: new Map() };
      sessions.set(client, s);
      done(null, true);
    },
    authorizeSubscribe(client, sub, done) {
      const s = sessions.get(client);
      const ok = s !== undefined && (s.provisionOnly ? sub.topic === TOPICS.provisionResponse : DEVICE_FILTERS.has(sub.topic));
      if (!ok || s === undefined) return done(null, null);
      const qos = Math.min(sub.qos, 1);
      s.subs.set(sub.topic, qos);
      done(null, { ...sub, qos, topic: `$tbfake/${++prefixSeq}/${sub.topic}` } as Subscription);
    },
    authorizePublish(client, packet, done) {
      const s = client === null ? undefined : sessions.get(client);
      if (s === undefined) return done(new Error('no session'));
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const err = s.provisionOnly ? onProvisionPublish(s, packet.topic, payload) : onDevicePublish(s, s.dev!, packet.topic, payload);
      done(err);
    },
  });

  function onProvisionPublish(s: Session, topic: string, payload: Buffer): Error | null {
    if (topic !== TOPICS.provisionRequest) return new Error('unsupported topic for provisioning requests');
    let req: unknown;
    try {
      req = JSON.parse(payload.toString('utf8'));
    } catch {
      return new Error('provisioning request is not JSON');
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return new Error('provisioning request is not an object');
    const answer = state.provision(req as Record<string, unknown>);
    send(s, TOPICS.provisionResponse, JSON.stringify(answer), 1);
    s.closeTimer ??= setTimeout(() => s.client.close(), PROVISION_SESSION_CLOSE_MS).unref();
    return null;
  }

  function onDevicePublish(s: Session, dev: TbDevice, topic: string, payload: Buffer): Error | null {
    if (payload.length > TB_MAX_PAYLOAD_SIZE) return new Error('payload larger than max_payload_size');
    if (topic === TOPICS.telemetry) return acceptTelemetry(state, dev, payload) ? null : new Error('invalid telemetry payload');
    if (topic === TOPICS.attributes) return acceptAttributes(state, dev, payload) ? null : new Error('invalid attributes payload');
    if (topic.startsWith(TOPICS.attributesRequest)) {
      const id = topic.slice(TOPICS.attributesRequest.length);
      let req: Record<string, unknown>;
      try {
        req = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
        if (typeof req !== 'object' || req === null) throw new Error();
      } catch {
        dev.counts.malformed++;
        return new Error('invalid attributes request');
      }
      send(s, TOPICS.attributesResponse + id, JSON.stringify(attributesAnswer(dev, req.clientKeys, req.sharedKeys)), granted(s, TOPICS.attributesResponses) ?? 0);
      return null;
    }
    if (topic.startsWith(TOPICS.rpcResponse)) {
      if (!opts.rpcReply(dev, Number(topic.slice(TOPICS.rpcResponse.length)))) dev.counts.rpcUnknownReplies++;
      return null;
    }
    const fw = FW_REQUEST.exec(topic);
    if (fw !== null) return onChunkRequest(s, dev, fw[1], Number(fw[2]), payload);
    dev.counts.unknownTopics++;
    return null;
  }

  /** getOtaPackageCallback: the payload is the chunk size (remembered per request id), errors go to v2/fw/error and close the session. */
  function onChunkRequest(s: Session, dev: TbDevice, requestId: string, chunk: number, payload: Buffer): Error | null {
    dev.counts.fwChunkRequests++;
    const text = payload.toString('utf8');
    let size = text === '' ? 0 : Number(text);
    if (!Number.isInteger(size)) {
      dev.counts.fwErrors++;
      return new Error('chunk size is not a number');
    }
    if (size > 0) s.chunkSizes.set(requestId, size);
    else size = s.chunkSizes.get(requestId) ?? 0;
    // The error is answered on v2/fw/error (acked, not refused) and then the session is closed.
    const fail = (error: string): null => {
      dev.counts.fwErrors++;
      send(s, TOPICS.fwError, error, 0);
      setImmediate(() => s.client.close());
      return null;
    };
    if (size > TB_MAX_PAYLOAD_SIZE) return fail('PAYLOAD_TOO_LARGE');
    const pkg = state.assignedPackage(dev);
    if (pkg === undefined) return fail('NOT_FOUND');
    const bytes = packageChunk(pkg, size, chunk);
    dev.counts.fwBytes += bytes.length;
    send(s, `v2/fw/response/${requestId}/chunk/${chunk}`, bytes, granted(s, TOPICS.fwResponses) ?? 0);
    return null;
  }

  aedes.on('client', (client: Client) => {
    const s = sessions.get(client);
    if (s?.dev) live.set(s.dev, s);
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const s = sessions.get(client);
    if (s?.closeTimer) clearTimeout(s.closeTimer);
    if (s?.dev && live.get(s.dev) === s) live.delete(s.dev);
  });
  aedes.on('clientError', (client: Client, err: Error) => opts.log?.(`mqtt client ${client.id}: ${err.message}`));

  const listener = await listenAedes(aedes, opts.host, opts.port);
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost(opts.host)}:${listener.port}`,
    pushAttributes(dev, changed) {
      const s = live.get(dev);
      const qos = s && granted(s, TOPICS.attributes);
      if (s === undefined || qos === undefined) return false;
      send(s, TOPICS.attributes, JSON.stringify(changed), qos);
      return true;
    },
    pushRpc(dev, id, body) {
      const s = live.get(dev);
      const qos = s && granted(s, TOPICS.rpcRequests);
      if (s === undefined || qos === undefined) return false;
      send(s, TOPICS.rpcRequest + id, JSON.stringify(body), qos);
      return true;
    },
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= listener.close();
      return closing;
    },
  };
}
