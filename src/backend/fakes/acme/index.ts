import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { FleetsimError } from '../../../errors/fleetsim-error.js';
import { LISTEN_BACKLOG, urlHost } from '../../broker.js';
import { AcmeApi } from './api.js';
import { AcmeMqttApi } from './mqtt-api.js';
import { AcmeState, type Thing, type ThingCounts } from './state.js';
import { parseJsonObject } from '../../../wire/answer-shapes.js';

/**
 * The acme-things test backend: the protocol of protocols/example.yaml (bearer tokens that
 * expire, version polling, telemetry on acme/<serial>/up, commands with a correlation id in the
 * topic), HTTP and an aedes broker on loopback. `target.backend: example` starts it for a run, and
 * the preset contract suite runs the declarative preset against it. It counts per thing what it
 * received (telemetry by sequence number, enrolments, polls, reports, command acks), so a run
 * reconciles per device as it does with the embedded reference backend.
 *
 * MQTT: username = thing id, password = a valid token (else CONNACK 5); a thing may publish on
 * acme/<serial>/up (JSON with an integer `n`), acme/<serial>/log and acme/<serial>/down/<cid>/ack,
 * and subscribe to acme/<serial>/down/+ only. On each such subscription the backend sends one
 * `diag` command: {op: exec, cmd: diag, at: epoch ms} on acme/<serial>/down/c-<n>. The MQTT
 * request/response API of protocols/example-mqtt.yaml (provisioning, desired state, reports) is in
 * ./mqtt-api.ts.
 *
 * Concurrency: the event loop of the thread that started it.
 */

export type { ThingCounts } from './state.js';

export interface AcmeFakeOptions {
  provisioningKey: string;
  host?: string;
  /** Ports (default 0: any free port). */
  httpPort?: number;
  mqttPort?: number;
  /** Token lifetime, seconds (default 20: a minute-long run re-authenticates). */
  tokenLifetimeSec?: number;
  /** `pollAfterSec` in desired-state answers (default 10). */
  pollAfterSec?: number;
  /** Send a diag command when a thing subscribes (default true). */
  commandOnSubscribe?: boolean;
}

export interface AcmeFake {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly state: AcmeState;
  /** The MQTT request/response API: its request counts, and how it answers (tests make it misbehave). */
  readonly mqttApi: AcmeMqttApi;
  stats(): ReturnType<AcmeApi['stats']>;
  /** Publishes a settings change (on the next poll and to online things). */
  pushSettings(settings: Record<string, string>): void;
  /** Sends command `cmd` to a thing; resolves once the broker has it. */
  sendCommand(serial: string, cmd: string): Promise<string>;
  /** Nothing is buffered between a PUBACK and the count: settled at once. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const RC_NOT_AUTHORIZED = 5;

export async function startAcmeFake(opts: AcmeFakeOptions): Promise<AcmeFake> {
  const host = opts.host ?? '127.0.0.1';
  const state = new AcmeState(opts.provisioningKey, opts.tokenLifetimeSec ?? 20, opts.pollAfterSec ?? 10);
  const api = new AcmeApi(state);
  const sessions = new WeakMap<Client, Thing>();
  /** Provisioning sessions, and the serial each may enrol. */
  const provisioners = new WeakMap<Client, string>();
  let commandSeq = 0;
  const publishJson = (topic: string, body: unknown): void => aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false }, () => {});
  const mqttApi = new AcmeMqttApi(state, publishJson);

  const aedes: Aedes = await Aedes.createBroker({
    connectTimeout: 10_000,
    authenticate(client, username, password, done) {
      const serial = mqttApi.provisioner(client.id, username, password?.toString('utf8'));
      if (serial !== undefined) {
        provisioners.set(client, serial);
        return done(null, true);
      }
      const t = password === undefined ? undefined : state.bearer(password.toString('utf8'), Date.now());
      if (t === undefined || t.id !== username) return done(Object.assign(new Error('token expired or not this thing'), { returnCode: RC_NOT_AUTHORIZED }) as AuthenticateError, null);
      sessions.set(client, t);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      const prov = client === null ? undefined : provisioners.get(client);
      if (prov !== undefined) {
        if (mqttApi.mayPublishAsProvisioner(prov, packet.topic)) return done(null);
        state.refusedPublishes++;
        return done(new Error('a provisioning session enrols only'));
      }
      const t = client === null ? undefined : sessions.get(client);
      if (t === undefined) return done(new Error('no session'));
      const own = `acme/${t.serial}/`;
      if (!packet.topic.startsWith(own)) {
        state.refusedPublishes++;
        return done(new Error('topic of another thing'));
      }
      const rest = packet.topic.slice(own.length);
      const payload = typeof packet.payload === 'string' ? packet.payload : packet.payload.toString('utf8');
      if (rest === 'up') {
        const n = readSeq(payload);
        if (n < 0 || !t.telemetry.record(n)) t.malformedTelemetry++;
      } else if (rest === 'log') {
        t.logLines += payload.split('\n').length;
      } else if (AcmeMqttApi.THING_TOPICS.has(rest)) {
        // Handled once routed (aedes 'publish' below).
      } else if (rest.startsWith('down/') && rest.endsWith('/ack')) {
        const cid = rest.slice(5, -4);
        const b = parseJsonObject(payload);
        if (b === undefined || b.ok === undefined) state.malformedRequests++;
        else if (cid.startsWith('c-')) t.commandsAcked++;
        else if (/^\d+$/.test(cid) && b.settingsRevision === Number(cid)) {
          t.settingsAcked++;
          t.settingsAckedRevision = Math.max(t.settingsAckedRevision, Number(cid));
        }
        else state.malformedRequests++;
      } else {
        state.refusedPublishes++;
        return done(new Error('not a topic of this protocol'));
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const prov = provisioners.get(client);
      const t = sessions.get(client);
      const ok = prov !== undefined ? mqttApi.maySubscribeAsProvisioner(prov, sub.topic) : t !== undefined && (sub.topic === `acme/${t.serial}/down/+` || sub.topic === mqttApi.thingSubscription(t));
      if (!ok) state.refusedSubscribes++;
      done(null, ok ? sub : null);
    },
  });
  const publish = (t: Thing, cid: string, body: unknown): Promise<void> =>
    new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic: `acme/${t.serial}/down/${cid}`, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
  const command = async (t: Thing, cmd: string): Promise<string> => {
    const cid = `c-${++commandSeq}`;
    t.commandsSent++;
    await publish(t, cid, { op: 'exec', cmd, at: Date.now(), args: {} });
    return cid;
  };
  aedes.on('publish', (packet, c: Client | null) => {
    if (c === null) return;
    const payload = typeof packet.payload === 'string' ? packet.payload : packet.payload.toString('utf8');
    const prov = provisioners.get(c);
    if (prov !== undefined) return mqttApi.enrol(prov, payload);
    const t = sessions.get(c);
    if (t === undefined) return;
    if (packet.topic === `acme/${t.serial}/desired/get`) mqttApi.desired(t, payload);
    else if (packet.topic === `acme/${t.serial}/report`) mqttApi.report(t, payload);
  });
  aedes.on('client', (c: Client) => {
    const t = sessions.get(c);
    if (t) t.online = true;
  });
  aedes.on('clientDisconnect', (c: Client) => {
    const t = sessions.get(c);
    if (t) t.online = false;
  });
  aedes.on('subscribe', (subs, c: Client) => {
    const t = c ? sessions.get(c) : undefined;
    if (t && opts.commandOnSubscribe !== false && subs.some((s) => s.topic === `acme/${t.serial}/down/+`)) void command(t, 'diag').catch(() => {});
  });

  const sockets = new Set<net.Socket>();
  const mqttServer = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const httpServer = http.createServer({ keepAlive: true, noDelay: true }, api.handle);
  try {
    mqttServer.listen({ port: opts.mqttPort ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(mqttServer, 'listening');
    httpServer.listen({ port: opts.httpPort ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(httpServer, 'listening');
  } catch (err) {
    mqttServer.close();
    httpServer.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the acme test backend could not listen on ${host}: ${(err as Error).message}`, { cause: err });
  }
  const h = urlHost(host);
  let closing: Promise<void> | undefined;
  return {
    httpUrl: `http://${h}:${(httpServer.address() as AddressInfo).port}`,
    mqttUrl: `mqtt://${h}:${(mqttServer.address() as AddressInfo).port}`,
    state,
    mqttApi,
    stats: () => api.stats(),
    pushSettings(settings) {
      state.setSettings(settings);
      for (const t of state.things()) if (t.online) void publish(t, String(state.settingsRevision), { op: 'settings', settings, settingsRevision: state.settingsRevision }).catch(() => {});
    },
    sendCommand(serial, cmd) {
      const t = state.bySerialNumber(serial);
      if (t === undefined) return Promise.reject(new Error(`no thing ${serial}`));
      return command(t, cmd);
    },
    settle: async () => {},
    close() {
      closing ??= (async () => {
        mqttApi.close();
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeAllConnections();
        const mqttClosed = new Promise<void>((resolve) => mqttServer.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await Promise.all([httpClosed, mqttClosed]);
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The integer `n` of a telemetry document, or -1. */
function readSeq(payload: string): number {
  const b = parseJsonObject(payload);
  return b !== undefined && typeof b.n === 'number' && Number.isInteger(b.n) && b.n >= 0 ? b.n : -1;
}
