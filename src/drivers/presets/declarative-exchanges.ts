import { compileJsonPath, readJsonPath, type JsonPath } from '../../protocol/json-path.js';
import type { ProtocolData } from '../../protocol/schema.js';
import { renderTemplate, type CompiledTemplate, type FieldValues } from '../../protocol/template.js';
import { POLL_UNCHANGED } from '../events.js';
import type { DeviceCredentials, MqttAnswer, MqttPolling, MqttProvisioning, TargetAnswer } from '../preset.js';
import { BAD_RESPONSE } from '../types.js';
import { isObject, parseJson } from './declarative-answers.js';

/**
 * Request/response over MQTT as a protocol file describes it (`mqtt.provision`, `mqtt.poll`;
 * src/protocol/schema.ts), for the declarative preset: the request rendered from its templates
 * with the correlation id the driver made, and the answer read — is it on the response topic,
 * which id does it carry (a topic level, or a payload field), what status (a field, `error`), and
 * the answer's fields at the same JSON paths an HTTP answer would have them.
 */

type ProvisionFile = NonNullable<ProtocolData['mqtt']['provision']>;
type PollFile = NonNullable<ProtocolData['mqtt']['poll']>;
type ResponseFile = ProvisionFile['response'] | PollFile['response'];

/** What the declarative preset lends: templates compiled its way, field values, and its answer readers. */
export interface ExchangeParts {
  compile(text: string): CompiledTemplate;
  compileBody(body: unknown): CompiledTemplate;
  /** Field values of a device (its credentials when it has them). */
  fields(creds: DeviceCredentials | undefined, serial: string): FieldValues;
  serialOf(creds: DeviceCredentials): string;
  credentials(doc: unknown, serial: string): DeviceCredentials | undefined;
  target(doc: unknown, version: string | undefined): TargetAnswer | undefined;
  ms(duration: string): number;
}

/** A response topic template, matched level by level: a level with a {{field}} matches any text. */
class ResponseTopic {
  private readonly levels: Array<string | null>;
  /** The level that is exactly {{correlationId}}, or -1. */
  readonly idLevel: number;

  constructor(text: string) {
    const parts = text.split('/');
    this.levels = parts.map((l) => (l.includes('{{') ? null : l));
    this.idLevel = parts.findIndex((l) => /^\{\{\s*correlationId\s*\}\}$/.test(l));
  }

  /** The topic's levels when it is this response topic, else undefined. */
  match(topic: string): string[] | undefined {
    const got = topic.split('/');
    if (got.length !== this.levels.length) return undefined;
    for (let i = 0; i < got.length; i++) {
      const want = this.levels[i];
      if (want !== null && want !== got[i]) return undefined;
    }
    return got;
  }
}

/** A response of the file, compiled. */
class Response {
  private readonly topic: ResponseTopic;
  private readonly subscription: CompiledTemplate;
  private readonly idPath: JsonPath | undefined;
  private readonly status: JsonPath | undefined;
  private readonly error: JsonPath | undefined;
  readonly timeoutMs: number;

  constructor(r: ResponseFile, parts: ExchangeParts) {
    this.topic = new ResponseTopic(r.topic);
    // The id's level is subscribed as a wildcard: one subscription serves every request.
    this.subscription = parts.compile(r.topic.replace(/\{\{\s*correlationId\s*\}\}/g, '+'));
    this.idPath = r.correlation?.in === 'payload' ? compileJsonPath(r.correlation.path) : undefined;
    this.status = r.status === undefined ? undefined : compileJsonPath(r.status);
    this.error = r.error === undefined ? undefined : compileJsonPath(r.error);
    this.timeoutMs = parts.ms(r.timeout);
  }

  subscriptionFor(v: FieldValues): string {
    return renderTemplate(this.subscription, v);
  }

  /** The answer on `topic`, read with `read` when it is a success; undefined when the topic is not this response's. */
  read<T>(topic: string, payload: Buffer, read: (doc: unknown) => T | undefined, unchanged?: ReadonlySet<number>): MqttAnswer<T> | undefined {
    const levels = this.topic.match(topic);
    if (levels === undefined) return undefined;
    const doc = parseJson(payload.toString('utf8'));
    const idValue = this.idPath !== undefined ? (doc === undefined ? undefined : readJsonPath(doc, this.idPath)) : this.topic.idLevel >= 0 ? levels[this.topic.idLevel] : undefined;
    const correlationId = typeof idValue === 'string' || typeof idValue === 'number' ? String(idValue) : undefined;
    const id = correlationId === undefined ? {} : { correlationId };
    if (!isObject(doc)) return { ...id, status: BAD_RESPONSE };
    let status = 200;
    if (this.status !== undefined) {
      const s = readJsonPath(doc, this.status);
      if (typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599) status = s;
      else if (s !== undefined) return { ...id, status: BAD_RESPONSE };
    }
    if (this.error !== undefined) {
      const e = readJsonPath(doc, this.error);
      // A refusal without a status of its own is a client error: the backend said no.
      if (e !== undefined && e !== null && e !== false && status >= 200 && status < 300) status = 400;
    }
    if (unchanged?.has(status)) return { ...id, status: POLL_UNCHANGED };
    if (status < 200 || status >= 300) return { ...id, status };
    const value = read(doc);
    return value === undefined ? { ...id, status: BAD_RESPONSE } : { ...id, status, value };
  }
}

export function mqttProvisioning(f: ProvisionFile, parts: ExchangeParts): MqttProvisioning {
  const response = new Response(f.response, parts);
  const clientId = parts.compile(f.session.clientId);
  const username = f.session.username === undefined ? undefined : parts.compile(f.session.username);
  const password = f.session.password === undefined ? undefined : parts.compile(f.session.password);
  const topic = parts.compile(f.request.topic);
  const payload = parts.compileBody(f.request.payload);
  const qos = f.request.qos;
  return {
    timeoutMs: response.timeoutMs,
    session(serial) {
      const v = parts.fields(undefined, serial);
      return {
        clientId: renderTemplate(clientId, v),
        ...(username === undefined ? {} : { username: renderTemplate(username, v) }),
        ...(password === undefined ? {} : { password: renderTemplate(password, v) }),
      };
    },
    subscriptions: (serial) => [response.subscriptionFor(parts.fields(undefined, serial))],
    request(serial, correlationId) {
      const v = { ...parts.fields(undefined, serial), correlationId };
      return { topic: renderTemplate(topic, v), payload: renderTemplate(payload, v), qos };
    },
    decode: (t, p, serial) => response.read(t, p, (doc) => parts.credentials(doc, serial)),
  };
}

export function mqttPolling(f: PollFile, parts: ExchangeParts): MqttPolling {
  const response = new Response(f.response, parts);
  const unchanged: ReadonlySet<number> = new Set(f.response.unchanged);
  const topic = parts.compile(f.request.topic);
  const payload = parts.compileBody(f.request.payload);
  const qos = f.request.qos;
  return {
    timeoutMs: response.timeoutMs,
    subscriptions: (creds) => [response.subscriptionFor(parts.fields(creds, parts.serialOf(creds)))],
    request(creds, correlationId, version) {
      const v = { ...parts.fields(creds, parts.serialOf(creds)), version: version ?? '', correlationId };
      return { topic: renderTemplate(topic, v), payload: renderTemplate(payload, v), qos };
    },
    decode: (t, p, version) => response.read(t, p, (doc) => parts.target(doc, version), unchanged),
  };
}
