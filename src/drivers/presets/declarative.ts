import { encodeTelemetry } from '../../wire/reference-protocol.js';
import { SUPPRESSED_PREFIX } from '../../wire/fleet-ops.js';
import { compileJsonPath, readJsonPath, type JsonPath } from '../../protocol/json-path.js';
import type { ProtocolData } from '../../protocol/schema.js';
import { compileBody, compileTemplate, renderTemplate, type CompiledTemplate, type FieldValues, type SecretRef } from '../../protocol/template.js';
import { parseDuration } from '../../models/units.js';
import type { DeviceCommand } from '../events.js';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import type { DeviceStateReport } from '../events.js';
import type { DeviceCredentials, DeviceMessage, HttpRequestSpec, MqttPolling, MqttProvisioning, MqttUplink, Preset, PresetFactory, TargetAnswer } from '../preset.js';
import { AnswerReader, configPaths, isObject, isText, offerPaths, parseJson, readConfig, readOffer, type ConfigPaths, type OfferPaths } from './declarative-answers.js';
import { mqttPolling, mqttProvisioning } from './declarative-exchanges.js';

/**
 * The declarative preset: a protocol file (src/protocol/schema.ts) spoken as a `Preset`. Every
 * template and JSON path is compiled once when the preset is built; a request renders its
 * templates (string concatenation over the compiled parts) and an answer is parsed once and read
 * at the compiled paths. Decoders never throw: an answer without the fields the file promises is
 * undefined (the driver counts a bad response), a message the file cannot place is ignored.
 */

type Route = { method: 'GET' | 'POST' | 'PUT'; path: CompiledTemplate; headers: Array<[string, CompiledTemplate]>; body?: CompiledTemplate };

const DEFAULT_REPLY = { id: '{{correlationId}}', ok: '{{ok}}' };
const DEFAULT_CONFIG_ACK = { config: '{{configVersion}}' };
const DEFAULT_EOL = { eol: '{{ok}}' };

/** A preset factory for a validated protocol file whose secrets (`env:NAME`, `file:path`) were read by the loader. */
export function declarativePreset(protocol: ProtocolData, secrets: Readonly<Record<string, string>>): PresetFactory {
  return (settings) => new DeclarativePreset(protocol, secrets, settings.fleetKey);
}

class DeclarativePreset implements Preset {
  readonly name: string;
  readonly reauthStatuses: readonly number[];
  readonly sendIfNoneMatch: boolean;
  readonly unchangedStatuses: readonly number[];
  readonly subscriptionQos: 0 | 1;
  readonly mqttProvision?: MqttProvisioning;
  readonly mqttPoll?: MqttPolling;
  readonly stateUplink?: (creds: DeviceCredentials, report: DeviceStateReport) => MqttUplink;
  readonly logsRequest?: (creds: DeviceCredentials, suppressed: number, line: string, lines: number) => readonly HttpRequestSpec[];
  /** HTTP routes; a step the file does over MQTT has none (the driver never asks for it). */
  private readonly provision: Route | undefined;
  private readonly poll: Route | undefined;
  private readonly state: Route | undefined;
  private readonly artifactHeaders: Array<[string, CompiledTemplate]>;
  private readonly versionHeader: string | undefined;
  private readonly answers: AnswerReader;
  private readonly auth: { scheme: ProtocolData['auth']['scheme']; username?: CompiledTemplate; password?: CompiledTemplate; header?: [string, CompiledTemplate] };
  private readonly mqtt: {
    clientId: CompiledTemplate;
    username?: CompiledTemplate;
    password?: CompiledTemplate;
    telemetry: CompiledTemplate;
    telemetryPayload?: CompiledTemplate;
    commands?: CompiledTemplate;
    replies?: { topic: CompiledTemplate; qos: 0 | 1 };
    logs?: { topic: CompiledTemplate; qos: 0 | 1 };
    reply: CompiledTemplate;
    configAck: CompiledTemplate;
    endOfLine: CompiledTemplate;
  };
  private readonly messages: {
    kind?: JsonPath;
    kinds: { update?: string; config?: string; command?: string };
    correlation?: { level: number } | { path: JsonPath };
    command?: { name: JsonPath; issuedAt?: JsonPath; args?: JsonPath };
    config?: ConfigPaths;
    update?: OfferPaths;
  };

  constructor(
    p: ProtocolData,
    secrets: Readonly<Record<string, string>>,
    private readonly fleetKey: string,
  ) {
    const secret = (ref: SecretRef): string => secrets[`${ref.kind}:${ref.name}`] ?? '';
    const t = (text: string): CompiledTemplate => compileTemplate(text, secret);
    const headers = (h: Record<string, string> | undefined): Array<[string, CompiledTemplate]> => Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), t(v)]);
    const common = headers(p.http.headers);
    const route = (r: { method: 'GET' | 'POST' | 'PUT'; path: string; headers?: Record<string, string>; body?: unknown }): Route => ({
      method: r.method,
      path: t(r.path),
      headers: [...common, ...headers(r.headers)],
      ...(r.body === undefined ? {} : { body: compileBody(r.body, secret) }),
    });
    this.name = p.name;
    this.reauthStatuses = p.auth.reauthenticate;
    this.provision = p.http.provision && route(p.http.provision);
    this.poll = p.http.poll && route(p.http.poll);
    this.state = p.http.state && route(p.http.state);
    this.artifactHeaders = [...common, ...headers(p.http.artifact?.headers)];
    const sv = p.http.poll?.sendVersion;
    this.sendIfNoneMatch = sv === 'if-none-match';
    this.versionHeader = typeof sv === 'object' ? sv.header.toLowerCase() : undefined;
    this.unchangedStatuses = p.http.poll?.unchanged ?? [];
    // The answers' fields are where the file says, over HTTP or over MQTT (the schema allows one of them).
    this.answers = new AnswerReader(
      p.http.provision?.answer ?? p.mqtt.provision!.response.answer,
      p.http.poll?.answer ?? p.mqtt.poll!.response.answer,
      p.auth.tokenLifetime === undefined ? undefined : ms(p.auth.tokenLifetime),
      ms(p.auth.renewBefore),
    );
    const path = (x: string | undefined): JsonPath | undefined => (x === undefined ? undefined : compileJsonPath(x));
    this.auth = {
      scheme: p.auth.scheme,
      ...(p.auth.username === undefined ? {} : { username: t(p.auth.username) }),
      ...(p.auth.password === undefined ? {} : { password: t(p.auth.password) }),
      ...(p.auth.header === undefined ? {} : { header: [p.auth.header.name.toLowerCase(), t(p.auth.header.value)] as [string, CompiledTemplate] }),
    };
    const m = p.mqtt;
    this.subscriptionQos = m.topics.commands?.qos ?? 1;
    this.mqtt = {
      clientId: t(m.clientId),
      ...(m.username === undefined ? {} : { username: t(m.username) }),
      ...(m.password === undefined ? {} : { password: t(m.password) }),
      telemetry: t(m.topics.telemetry.topic),
      ...(m.topics.telemetry.payload === undefined ? {} : { telemetryPayload: compileBody(m.topics.telemetry.payload, secret) }),
      ...(m.topics.commands ? { commands: t(m.topics.commands.topic) } : {}),
      replies: { topic: t(m.topics.replies?.topic ?? `${m.topics.telemetry.topic}/replies`), qos: m.topics.replies?.qos ?? 1 },
      logs: { topic: t(m.topics.logs?.topic ?? `${m.topics.telemetry.topic}/logs`), qos: m.topics.logs?.qos ?? 0 },
      reply: compileBody(m.reply ?? DEFAULT_REPLY, secret),
      configAck: compileBody(m.configAck ?? DEFAULT_CONFIG_ACK, secret),
      endOfLine: compileBody(m.endOfLine ?? DEFAULT_EOL, secret),
    };
    const parts = {
      compile: t,
      compileBody: (b: unknown) => compileBody(b, secret),
      fields: (c: DeviceCredentials | undefined, serial: string) => this.fields(c, serial),
      serialOf,
      credentials: (doc: unknown, serial: string) => this.answers.credentials(doc, serial),
      target: (doc: unknown, version: string | undefined) => this.answers.target(doc, version),
      ms,
    };
    if (m.provision) this.mqttProvision = mqttProvisioning(m.provision, parts);
    if (m.poll) this.mqttPoll = mqttPolling(m.poll, parts);
    if (m.state) {
      const st = { topic: t(m.state.topic), payload: compileBody(m.state.payload, secret), qos: m.state.qos };
      this.stateUplink = (creds, report) => {
        const v = this.reportFields(creds, report);
        return { topic: renderTemplate(st.topic, v), payload: renderTemplate(st.payload, v), qos: st.qos };
      };
    }
    if (p.http.logs) {
      const logsRoute = route(p.http.logs);
      this.logsRequest = (creds, suppressed, line, lines) => [this.request(logsRoute, { ...this.fields(creds, serialOf(creds)), lines: logLines(suppressed, line, lines), suppressed })];
    }
    const mm = m.messages;
    this.messages = {
      kind: path(mm?.kind),
      kinds: mm?.kinds ?? {},
      ...(mm?.correlationId === undefined ? {} : { correlation: 'topicLevel' in mm.correlationId ? { level: mm.correlationId.topicLevel } : { path: compileJsonPath(mm.correlationId.path) } }),
      ...(mm?.command ? { command: { name: compileJsonPath(mm.command.name), issuedAt: path(mm.command.issuedAt), args: path(mm.command.args) } } : {}),
      config: configPaths(mm?.config),
      update: offerPaths(mm?.update),
    };
  }

  // --- field values of one device ---

  private fields(creds: DeviceCredentials | undefined, serial: string): { serial: string; device: number; fleetKey: string; deviceId: string; token: string; ts: number } {
    return { serial, device: deviceIndexOf(serial), fleetKey: this.fleetKey, deviceId: creds?.deviceId ?? serial, token: creds?.secret ?? '', ts: Date.now() };
  }

  private request(r: Route, v: FieldValues, extra?: Array<[string, CompiledTemplate]>): HttpRequestSpec {
    const headers: string[] = [];
    for (const [name, value] of r.headers) headers.push(name, renderTemplate(value, v));
    if (extra) for (const [name, value] of extra) headers.push(name, renderTemplate(value, v));
    if (this.auth.header && v.token !== undefined && v.token !== '') headers.push(this.auth.header[0], renderTemplate(this.auth.header[1], v));
    return { method: r.method, path: renderTemplate(r.path, v), ...(r.body ? { body: renderTemplate(r.body, v) } : {}), ...(headers.length > 0 ? { headers } : {}) };
  }

  // --- provisioning and credentials ---

  provisionRequest(serial: string): HttpRequestSpec {
    return this.request(this.provision ?? overMqtt('provision'), this.fields(undefined, serial));
  }

  decodeProvision(body: string, serial: string): DeviceCredentials | undefined {
    return this.answers.credentials(parseJson(body), serial);
  }

  authorization(creds: DeviceCredentials): string | undefined {
    switch (this.auth.scheme) {
      case 'bearer':
        return `Bearer ${creds.secret}`;
      case 'basic': {
        const v = this.fields(creds, serialOf(creds));
        return `Basic ${Buffer.from(`${renderTemplate(this.auth.username!, v)}:${renderTemplate(this.auth.password!, v)}`).toString('base64')}`;
      }
      default:
        // header: added to each request's headers; client-certificate and none: no header.
        return undefined;
    }
  }

  // --- MQTT session ---

  connectIdentity(creds: DeviceCredentials) {
    const v = this.fields(creds, serialOf(creds));
    const m = this.mqtt;
    return {
      clientId: renderTemplate(m.clientId, v),
      ...(m.username ? { username: renderTemplate(m.username, v) } : {}),
      ...(m.password ? { password: renderTemplate(m.password, v) } : {}),
    };
  }

  subscriptions(creds: DeviceCredentials): readonly string[] {
    return this.mqtt.commands ? [renderTemplate(this.mqtt.commands, this.fields(creds, serialOf(creds)))] : [];
  }

  telemetryTopic(creds: DeviceCredentials): string {
    return renderTemplate(this.mqtt.telemetry, this.fields(creds, serialOf(creds)));
  }

  telemetryPayload(seq: number, tsMs: number, size: number): Buffer {
    const t = this.mqtt.telemetryPayload;
    if (t === undefined) return encodeTelemetry(seq, tsMs, size);
    const text = renderTemplate(t, { seq, ts: Math.floor(tsMs) });
    // Trailing spaces keep a JSON document valid and give the payload the scenario's size.
    const n = Buffer.byteLength(text);
    const buf = Buffer.alloc(Math.max(size, n), 0x20);
    buf.write(text, 0, 'utf8');
    return buf;
  }

  decodeMessage(topic: string, payload: Buffer): DeviceMessage | undefined {
    const doc = parseJson(payload.toString('utf8'));
    if (doc === undefined) return undefined;
    const m = this.messages;
    const kind = m.kind ? readJsonPath(doc, m.kind) : m.kinds.command;
    const id = m.correlation === undefined ? undefined : 'level' in m.correlation ? topic.split('/')[m.correlation.level] : readJsonPath(doc, m.correlation.path);
    if (kind === undefined) return undefined;
    if (m.command && (kind === m.kinds.command || (m.kind === undefined && m.kinds.command === undefined))) {
      const name = readJsonPath(doc, m.command.name);
      if (!isText(name) || !isText(id)) return undefined;
      const issuedAt = m.command.issuedAt ? readJsonPath(doc, m.command.issuedAt) : undefined;
      const args = m.command.args ? readJsonPath(doc, m.command.args) : undefined;
      const command: DeviceCommand = {
        id: String(id),
        name: String(name),
        ...(typeof issuedAt === 'number' ? { issuedAt } : {}),
        ...(isObject(args) ? { args } : {}),
      };
      return { kind: 'command', command };
    }
    if (m.config && kind === m.kinds.config) {
      const change = readConfig(doc, m.config);
      return change ? { kind: 'config', change } : undefined;
    }
    if (m.update && kind === m.kinds.update) {
      const offer = readOffer(doc, m.update);
      return offer ? { kind: 'update', offer } : undefined;
    }
    return undefined;
  }

  // --- target state ---

  pollRequest(creds: DeviceCredentials, etag?: string): HttpRequestSpec {
    const v = { ...this.fields(creds, serialOf(creds)), version: etag ?? '' };
    const r = this.request(this.poll ?? overMqtt('poll'), v);
    if (this.versionHeader === undefined || etag === undefined) return r;
    return { ...r, headers: [...(r.headers ?? []), this.versionHeader, etag] };
  }

  decodePoll(body: string, etag?: string): TargetAnswer | undefined {
    return this.answers.target(parseJson(body), etag);
  }

  // --- fleet operations, device -> backend ---

  stateReport(creds: DeviceCredentials, report: DeviceStateReport): HttpRequestSpec {
    return this.request(this.state ?? overMqtt('state'), this.reportFields(creds, report));
  }

  private reportFields(creds: DeviceCredentials, report: DeviceStateReport): FieldValues {
    return { ...this.fields(creds, serialOf(creds)), release: report.release, status: report.status, campaign: report.campaign ?? '', cause: report.cause ?? '', bytes: report.bytes ?? 0 };
  }

  artifactRequest(creds: DeviceCredentials, artifact: { name: string; url?: string }): HttpRequestSpec {
    const v = this.fields(creds, serialOf(creds));
    const headers: string[] = [];
    for (const [name, value] of this.artifactHeaders) headers.push(name, renderTemplate(value, v));
    if (this.auth.header) headers.push(this.auth.header[0], renderTemplate(this.auth.header[1], v));
    return { method: 'GET', path: artifact.url ?? artifact.name, ...(headers.length > 0 ? { headers } : {}) };
  }

  commandReply(creds: DeviceCredentials, command: DeviceCommand, ok: boolean): MqttUplink {
    return this.reply(creds, this.mqtt.reply, { correlationId: command.id, command: command.name, ok });
  }

  configAck(creds: DeviceCredentials, version: number): MqttUplink {
    // A configuration has no correlation id of its own: its version stands in for it in the topic.
    return this.reply(creds, this.mqtt.configAck, { correlationId: String(version), configVersion: version, ok: true });
  }

  endOfLineReport(creds: DeviceCredentials, ok: boolean): MqttUplink {
    return this.reply(creds, this.mqtt.endOfLine, { correlationId: 'eol', ok });
  }

  logs(creds: DeviceCredentials, suppressed: number, line: string, lines: number): MqttUplink {
    const logs = this.mqtt.logs!;
    return { topic: renderTemplate(logs.topic, this.fields(creds, serialOf(creds))), payload: logLines(suppressed, line, lines), qos: logs.qos };
  }

  private reply(creds: DeviceCredentials, body: CompiledTemplate, extra: FieldValues): MqttUplink {
    const v = { ...this.fields(creds, serialOf(creds)), ...extra };
    const r = this.mqtt.replies!;
    return { topic: renderTemplate(r.topic, v), payload: renderTemplate(body, v), qos: r.qos };
  }
}

/** One upload's lines, newline-separated: a notice of the lines dropped before it, then the lines. */
function logLines(suppressed: number, line: string, lines: number): string {
  const parts: string[] = [];
  if (suppressed > 0) parts.push(SUPPRESSED_PREFIX + suppressed);
  for (let i = 0; i < lines; i++) parts.push(line);
  return parts.join('\n');
}

/** A step the protocol file does over MQTT was asked of its HTTP route: the driver's bug, never the file's. */
function overMqtt(step: string): never {
  throw new FleetsimError('FLEETSIM_E_INTERNAL', `the protocol file does ${step} over MQTT; its HTTP request was asked for`);
}

/** The global device index a serial ends with (serials are `<scenario>-<index>`). */
function deviceIndexOf(serial: string): number {
  const m = /(\d+)$/.exec(serial);
  return m ? Number(m[1]) : 0;
}

function serialOf(creds: DeviceCredentials): string {
  return creds.extra?.serial ?? creds.deviceId;
}

function ms(text: string): number {
  const r = parseDuration(text);
  return r.ok ? r.value : 0;
}
