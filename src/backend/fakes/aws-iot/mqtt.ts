import { createHash } from 'node:crypto';
import type tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { urlHost } from '../../broker.js';
import { listenAedes } from '../../broker-aedes.js';
import { topicMatches } from '../../broker-lean-frames.js';
import { ConnectAdmission, TokenBucket, type AwsIotLimits } from './limits.js';
import type { Outgoing } from './messages.js';
import type { FleetProvisioning } from './provisioning.js';
import type { JobsApi } from './jobs.js';
import type { ShadowApi } from './shadow.js';
import { deviceTopics, jobsTopics, registerThingTopic, thingTopic, CREATE_KEYS_AND_CERTIFICATE } from './topics.js';
import type { AwsCertificate, AwsIotState, AwsThing } from './state.js';

/**
 * The AWS IoT fake's message broker: aedes behind a TLS listener that requires a client
 * certificate from the fake's CA (port 8883's mutual TLS). aedes, not the lean broker: the lean
 * broker is built around the reference protocol's logins and store, while aedes' hooks
 * (preConnect, authenticate, authorizePublish, authorizeSubscribe) are exactly the gates AWS IoT
 * applies per CONNECT and per PUBLISH, and the ThingsBoard fake already uses it the same way.
 *
 * Sessions: the claim certificate may only call fleet provisioning; a provisioned certificate
 * connects as its thing (client ID = thing name, the fleet-provisioning template's usual policy)
 * and may use its own `$aws/things/<thing>/` topics and `dt/fleetsim/<thing>/`. Anything else
 * closes the connection, as AWS IoT does for an MQTT 3.1.1 client its policy refuses.
 * Nothing a device publishes is routed to other clients: subscriptions are granted under a private
 * prefix (the fake remembers the filters) and every answer is written to the session itself.
 *
 * Limits (limits.ts), with the platform's behaviour: a CONNECT over the account's or the client
 * ID's rate is closed without CONNACK (lifecycle reason THROTTLED); a PUBLISH over the
 * connection's rate is discarded: not processed and, at QoS 1, not acknowledged; the session stays.
 *
 * Concurrency: the fake's event loop only.
 */

const RC_NOT_AUTHORIZED = 5;
/** Where a discarded publish goes: no subscription ever matches it. */
const DISCARDED_TOPIC = '$fleetsim-aws-fake/discarded';

interface Session {
  readonly client: Client;
  readonly cert: AwsCertificate;
  readonly thing?: AwsThing;
  readonly filters: Set<string>;
  readonly publishes: TokenBucket;
}

export interface AwsIotMqtt {
  readonly url: string;
  /** Sends a thing's NextNotification when it has a session subscribed to notify-next; false when not. */
  notifyNext(thing: AwsThing): boolean;
  /** Publishes the fake's messages to a thing's session (shadow deltas); false when it has none. */
  push(thing: AwsThing, out: readonly Outgoing[]): boolean;
  connectedClients(): number;
  close(): Promise<void>;
}

export interface AwsIotMqttOptions {
  host: string;
  port: number;
  tls: tls.TlsOptions;
  limits: AwsIotLimits;
  templateName: string;
  now: () => number;
  log?: (line: string) => void;
}

export async function startAwsIotMqtt(state: AwsIotState, apis: { provisioning: FleetProvisioning; jobs: JobsApi; shadow: ShadowApi }, opts: AwsIotMqttOptions): Promise<AwsIotMqtt> {
  const sessions = new WeakMap<Client, Session>();
  const live = new Map<string, Session>();
  const admission = new ConnectAdmission(opts.limits, opts.now());
  const account = state.account;
  let prefixSeq = 0;

  const subscribed = (s: Session, topic: string) => {
    for (const f of s.filters) if (topicMatches(f, topic)) return true;
    return false;
  };
  /** Writes answers to the session; `always`: delivered without a subscription (the jobs API's responses). */
  const send = (s: Session, out: readonly Outgoing[], always: boolean) => {
    for (const m of out) {
      if (!always && !subscribed(s, m.topic)) continue;
      s.client.publish({ cmd: 'publish', topic: m.topic, payload: Buffer.from(m.payload), qos: 1, retain: false, dup: false } as PublishPacket, () => {});
    }
  };
  const refuse = (message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: RC_NOT_AUTHORIZED }) as AuthenticateError;
  const certificateOf = (client: Client): AwsCertificate | undefined => {
    const socket = client.conn as unknown as tls.TLSSocket;
    // getPeerCertificate(false), not getPeerX509Certificate(): the first call on a socket cost
    // 130-200 µs against 380-490 µs for the latter on Node 20 (bench/tls-peer-certificate.mjs).
    const raw = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined;
    return raw === undefined ? undefined : state.certificates.get(createHash('sha256').update(raw).digest('hex'));
  };

  const aedes = await Aedes.createBroker({
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    preConnect(client, packet, done) {
      const clientId = packet.clientId ?? '';
      // An error (not just `false`) makes aedes close the connection: no CONNACK is sent.
      if (Buffer.byteLength(clientId) > opts.limits.maxClientIdBytes) {
        account.clientErrors++;
        return done(new Error('client ID longer than the broker allows'), false);
      }
      const verdict = admission.admit(clientId, opts.now());
      if (verdict === 'ok') return done(null, true);
      if (verdict === 'account') account.throttledConnectsAccount++;
      else {
        account.throttledConnectsClientId++;
        const thing = state.things.get(clientId);
        if (thing !== undefined) thing.counts.throttledConnects++;
      }
      done(new Error(`CONNECT throttled (${verdict} rate)`), false);
    },
    authenticate(client, _username, _password, done) {
      const cert = certificateOf(client);
      if (cert === undefined || cert.status !== 'ACTIVE') {
        account.authErrors++;
        return done(refuse('certificate not registered or not active'), null);
      }
      const thing = cert.claim ? undefined : cert.thingName === undefined ? undefined : state.things.get(cert.thingName);
      if (!cert.claim && (thing === undefined || client.id !== thing.name)) {
        account.authErrors++;
        return done(refuse('the policy allows this certificate to connect only as its thing'), null);
      }
      account.connects++;
      sessions.set(client, { client, cert, thing, filters: new Set(), publishes: new TokenBucket(opts.limits.publishesPerSecondPerConnection, opts.now()) });
      done(null, true);
    },
    authorizeSubscribe(client, sub, done) {
      const s = sessions.get(client);
      if (s === undefined || !mayUse(s, sub.topic, opts.templateName)) return done(null, null);
      s.filters.add(sub.topic);
      done(null, { ...sub, qos: Math.min(sub.qos, 1), topic: `$fleetsim-aws-fake/${++prefixSeq}/${sub.topic}` } as Subscription);
    },
    authorizePublish(client, packet, done) {
      const s = client === null ? undefined : sessions.get(client);
      if (s === undefined) return done(new Error('no session'));
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      if (payload.length > opts.limits.maxPayloadBytes || slashes(packet.topic) > opts.limits.maxTopicSlashes) {
        account.clientErrors++;
        return done(new Error('payload or topic over the broker limits'));
      }
      if (!s.publishes.take(opts.now())) {
        account.throttledPublishes++;
        if (s.thing) s.thing.counts.throttledPublishes++;
        // Discarded: aedes reads the QoS after this hook, so at QoS 0 no PUBACK is written; the dead topic routes nowhere.
        packet.qos = 0;
        packet.topic = DISCARDED_TOPIC;
        return done(null);
      }
      if (!mayUse(s, packet.topic, opts.templateName) || packet.topic.endsWith('/accepted') || packet.topic.endsWith('/rejected') || packet.topic.endsWith('/delta')) {
        account.authErrors++;
        return done(new Error(`the policy does not allow publishing to ${packet.topic}`));
      }
      const now = opts.now();
      if (s.thing === undefined) {
        apis.provisioning.handle(packet.topic, payload, now).then(
          (answer) => send(s, [answer], false),
          (err: Error) => opts.log?.(`aws-iot fake provisioning: ${err.message}`),
        );
        return done(null);
      }
      onThingPublish(s, s.thing, packet.topic, payload, now);
      done(null);
    },
  });

  function onThingPublish(s: Session, thing: AwsThing, topic: string, payload: Buffer, now: number): void {
    const own = deviceTopics(thing.name);
    if (topic === own.telemetry) return countTelemetry(thing, payload);
    if (topic === own.logs) return countLogLines(thing, payload);
    const t = thingTopic(topic);
    if (t === undefined) return;
    if (t.rest.startsWith('jobs/')) return send(s, apis.jobs.handle(thing, t.rest, payload, now), true);
    const answer = apis.shadow.handle(thing, t.rest, payload, now);
    if (answer !== undefined) send(s, answer, false);
  }

  aedes.on('client', (client: Client) => {
    const s = sessions.get(client);
    if (s?.thing) live.set(s.thing.name, s);
  });
  aedes.on('clientDisconnect', (client: Client) => {
    const s = sessions.get(client);
    if (s?.thing && live.get(s.thing.name) === s) live.delete(s.thing.name);
  });
  aedes.on('clientError', (client: Client, err: Error) => opts.log?.(`aws-iot fake client ${client.id}: ${err.message}`));

  const listener = await listenAedes(aedes, opts.host, opts.port, opts.tls);
  let closing: Promise<void> | undefined;
  return {
    url: `mqtts://${urlHost(opts.host)}:${listener.port}`,
    notifyNext(thing) {
      const s = live.get(thing.name);
      if (s === undefined || !subscribed(s, jobsTopics(thing.name).notifyNext)) return false;
      send(s, [apis.jobs.nextNotification(thing, opts.now())], false);
      return true;
    },
    push(thing, out) {
      const s = live.get(thing.name);
      if (s === undefined) return false;
      send(s, out, false);
      return true;
    },
    connectedClients: () => aedes.connectedClients,
    close() {
      closing ??= listener.close();
      return closing;
    },
  };
}

/** Whether the session's policy allows `topic` (a topic or a filter). */
function mayUse(s: Session, topic: string, templateName: string): boolean {
  if (s.thing === undefined) {
    return topic.startsWith(CREATE_KEYS_AND_CERTIFICATE) || topic.startsWith(registerThingTopic(templateName));
  }
  const name = s.thing.name;
  return topic.startsWith(`$aws/things/${name}/`) || topic.startsWith(`dt/fleetsim/${name}/`);
}

/** Forward slashes AWS IoT counts in a topic (a Basic Ingest `$aws/rules/<rule>/` prefix does not count). */
function slashes(topic: string): number {
  const t = topic.startsWith('$aws/rules/') ? topic.slice(topic.indexOf('/', '$aws/rules/'.length) + 1) : topic;
  let n = 0;
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** Counts a telemetry message and records its top-level `seq` (fleetsim's payloads and templates carry one). */
function countTelemetry(thing: AwsThing, payload: Buffer): void {
  thing.counts.telemetry++;
  let seq: unknown;
  try {
    seq = (JSON.parse(payload.toString('utf8')) as { seq?: unknown }).seq;
  } catch {
    seq = undefined;
  }
  if (typeof seq === 'string') seq = Number(seq);
  if (typeof seq !== 'number' || !thing.telemetry.record(seq)) thing.counts.telemetryWithoutSeq++;
}

/** Counts the lines of a log shipment (`{"lines":[...]}`, fleetsim's log payload; anything else is one line). */
function countLogLines(thing: AwsThing, payload: Buffer): void {
  let lines: unknown;
  try {
    lines = (JSON.parse(payload.toString('utf8')) as { lines?: unknown }).lines;
  } catch {
    lines = undefined;
  }
  thing.counts.logLines += Array.isArray(lines) ? lines.length : 1;
}
