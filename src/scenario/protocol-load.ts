import { statSync } from 'node:fs';
import path from 'node:path';
import { FleetsimError, type Problem } from '../errors/fleetsim-error.js';
import { protocolSchema, type ProtocolData } from '../protocol/schema.js';
import { BUILT_IN_PRESET_NAMES, isBuiltInPresetName } from '../protocol/built-in-presets.js';
import { secretRefs, templateProblems, type TemplateScope } from '../protocol/template.js';
import { readSecret } from './secrets.js';
import { suggestionHint } from './suggest.js';
import { formatPath, readInputFile, YamlSource, type DocPath } from './yaml-source.js';
import { problemsFromIssues } from './zod-problems.js';

/**
 * Loading protocol files (`target.preset: ./my-api.yaml`) with the scenario's machinery: the YAML
 * source that remembers positions, zod issues turned into problems at `file:line:col` with YAML
 * path and hint, every problem at once (`FLEETSIM_E_PROTOCOL_INVALID`, exit 2). On top of the
 * schema it checks each template's placeholders against the fields its place can know, and reads
 * every `${env:…}` / `${file:…}` secret (relative to the protocol file), never showing a value.
 */

/** A validated protocol file, its secrets read (keyed `env:NAME` / `file:path`). */
export interface LoadedProtocol {
  /** Absolute path of the file. */
  readonly file: string;
  readonly data: ProtocolData;
  readonly secrets: Readonly<Record<string, string>>;
}

/** Where each template of a protocol file sits, and the scope that decides which fields it may name. */
function templatePlaces(data: Record<string, unknown>): Array<[DocPath, TemplateScope]> {
  const out: Array<[DocPath, TemplateScope]> = [];
  const http = rec(data.http);
  const mqtt = rec(data.mqtt);
  const auth = rec(data.auth);
  const routeScopes: Array<[string, TemplateScope]> = [['provision', 'provision'], ['poll', 'device'], ['state', 'state'], ['artifact', 'device'], ['logs', 'logs']];
  out.push(...leaves(http.headers, ['http', 'headers']).map((p): [DocPath, TemplateScope] => [p, 'provision']));
  for (const [name, scope] of routeScopes) {
    const r = rec(http[name]);
    for (const key of ['path', 'headers', 'body']) out.push(...leaves(r[key], ['http', name, key]).map((p): [DocPath, TemplateScope] => [p, scope]));
  }
  for (const key of ['clientId', 'username', 'password']) out.push(...leaves(mqtt[key], ['mqtt', key]).map((p): [DocPath, TemplateScope] => [p, 'device']));
  out.push(...leaves(rec(rec(mqtt.topics).telemetry).payload, ['mqtt', 'topics', 'telemetry', 'payload']).map((p): [DocPath, TemplateScope] => [p, 'telemetry']));
  for (const [name, t] of Object.entries(rec(mqtt.topics))) {
    const scope: TemplateScope = name === 'replies' ? 'reply' : name === 'logs' ? 'logs' : 'device';
    out.push(...leaves(rec(t).topic, ['mqtt', 'topics', name, 'topic']).map((p): [DocPath, TemplateScope] => [p, scope]));
  }
  for (const key of ['reply', 'configAck', 'endOfLine']) out.push(...leaves(mqtt[key], ['mqtt', key]).map((p): [DocPath, TemplateScope] => [p, 'reply']));
  // Request/response over MQTT: the provisioning session knows no credentials yet.
  const place = (v: unknown, p: DocPath, scope: TemplateScope) => out.push(...leaves(v, p).map((q): [DocPath, TemplateScope] => [q, scope]));
  const prov = rec(mqtt.provision);
  for (const key of ['clientId', 'username', 'password']) place(rec(prov.session)[key], ['mqtt', 'provision', 'session', key], 'provision');
  for (const [name, scope] of [['provision', 'provisionRequest'], ['poll', 'deviceRequest']] as const) {
    const x = rec(mqtt[name]);
    for (const key of ['topic', 'payload']) place(rec(x.request)[key], ['mqtt', name, 'request', key], scope);
    place(rec(x.response).topic, ['mqtt', name, 'response', 'topic'], scope);
  }
  place(rec(mqtt.state).topic, ['mqtt', 'state', 'topic'], 'device');
  place(rec(mqtt.state).payload, ['mqtt', 'state', 'payload'], 'state');
  for (const key of ['username', 'password']) out.push(...leaves(auth[key], ['auth', key]).map((p): [DocPath, TemplateScope] => [p, 'device']));
  out.push(...leaves(rec(auth.header).value, ['auth', 'header', 'value']).map((p): [DocPath, TemplateScope] => [p, 'device']));
  return out;
}

/** Paths of the string leaves of `v` (a template string, or a body mapping or list). */
function leaves(v: unknown, at: DocPath): DocPath[] {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...at, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
  return [];
}

function at(data: unknown, p: DocPath): unknown {
  let v = data;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k as string] : undefined;
  return v;
}

/** Template, secret and cross-field problems; run on the raw data even when the schema found some. */
function semanticProblems(data: Record<string, unknown>, source: YamlSource, baseDir: string, secrets: Record<string, string>): Problem[] {
  const out: Problem[] = [];
  const add = (p: DocPath, message: string, hint: string, where: 'key' | 'value' = 'value'): void => {
    out.push({ location: source.locate(p, where), path: formatPath(p), message, hint });
  };
  for (const [p, scope] of templatePlaces(data)) {
    const text = at(data, p);
    if (typeof text !== 'string') continue;
    for (const t of templateProblems(text, scope)) add(p, t.message, t.hint);
    for (const ref of secretRefs(text)) {
      const key = `${ref.kind}:${ref.name}`;
      const r = readSecret(`\${${key}}`, baseDir);
      if (r.ok) secrets[key] = r.value;
      else add(p, r.message, r.hint);
    }
  }
  const auth = rec(data.auth);
  const mqttProvision = rec(rec(data.mqtt).provision);
  const answer = rec(rec(data.http).provision).answer !== undefined ? rec(rec(rec(data.http).provision).answer) : rec(rec(mqttProvision.response).answer);
  const provisionAt: DocPath = rec(data.http).provision === undefined && mqttProvision.response !== undefined ? ['mqtt', 'provision'] : ['http', 'provision'];
  if (auth.scheme !== 'bearer' && answer.token === undefined && usesToken(data)) {
    add(provisionAt, 'templates use {{token}} but the provisioning answer does not say where the token is', 'write http.provision.answer.token: the JSON path of the credential, e.g. auth.access_token');
  }
  if (auth.scheme === 'bearer' && answer.token === undefined) {
    add(['auth', 'scheme'], 'a bearer scheme needs the token from provisioning', 'write http.provision.answer.token: the JSON path of the token in the provisioning answer');
  }
  const mqtt = rec(data.mqtt);
  const topics = rec(mqtt.topics);
  // Each step goes one way: HTTP or MQTT, never both, never neither (checked on the raw data, so
  // these are reported with the schema's problems, all at once).
  const http = rec(data.http);
  for (const step of ['provision', 'poll', 'state']) {
    if (http[step] !== undefined && mqtt[step] !== undefined) add(['mqtt', step], `${step} is described twice, in http.${step} and mqtt.${step}`, `keep one of http.${step} and mqtt.${step}`, 'key');
    else if (http[step] === undefined && mqtt[step] === undefined) add(data.http === undefined ? [] : ['http'], `no ${step} route`, `write http.${step} (a route) or mqtt.${step} (over MQTT)`, 'key');
  }
  if (http.logs !== undefined && topics.logs !== undefined) add(['http', 'logs'], 'logs are described twice, in http.logs and mqtt.topics.logs', 'keep one of http.logs and mqtt.topics.logs', 'key');
  for (const name of ['provision', 'poll']) {
    const r = rec(rec(mqtt[name]).response);
    const topic = typeof r.topic === 'string' ? r.topic : '';
    const idLevel = topic.split('/').some((l) => /^\{\{\s*correlationId\s*\}\}$/.test(l));
    if (rec(r.correlation).in === 'topic' && !idLevel) {
      add(['mqtt', name, 'response', 'correlation'], 'the correlation id is said to be in the topic, and no level of the response topic is {{correlationId}}', 'write the response topic with a level that is exactly {{correlationId}}, e.g. acme/{{serial}}/res/{{correlationId}}');
    }
    if (idLevel && r.correlation === undefined) {
      add(['mqtt', name, 'response', 'topic'], 'the response topic carries {{correlationId}}, and correlation does not say so', 'write correlation: { in: topic }', 'key');
    }
  }
  if (mqttProvision.response !== undefined && (auth.tokenLifetime !== undefined || rec(rec(mqttProvision.response).answer).expiresIn !== undefined || rec(rec(mqttProvision.response).answer).expiresAt !== undefined)) {
    add(['mqtt', 'provision'], 'credentials provisioned over MQTT are not renewed: a token that expires would lock the device out', 'drop expiresIn / expiresAt / auth.tokenLifetime, or provision over HTTP (http.provision)', 'key');
  }
  const messages = rec(mqtt.messages);
  if (topics.replies !== undefined && messages.correlationId === undefined) {
    add(['mqtt', 'topics', 'replies'], 'replies need to know which command they answer', 'write mqtt.messages.correlationId: { topicLevel: N } or { path: rid }', 'key');
  }
  if (mqtt.messages !== undefined && topics.commands === undefined) {
    add(['mqtt', 'messages'], 'messages are read from the commands topic, which is not set', 'write mqtt.topics.commands: { topic: "acme/{{serial}}/cmd/+" }', 'key');
  }
  return out;
}

function usesToken(data: unknown): boolean {
  return JSON.stringify(data).includes('{{token}}');
}

function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The path as messages show it: relative to the current directory when inside it. */
function labelOf(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** Loads and validates a protocol file; throws FLEETSIM_E_PROTOCOL_INVALID (or YAML syntax, file not found) with every problem. */
export function loadProtocolFile(file: string): LoadedProtocol {
  const abs = path.resolve(file);
  const label = labelOf(abs);
  const text = readInputFile(abs, 'protocol file', label, 'give the path of a protocol YAML file relative to the scenario, e.g. ../protocols/example.yaml');
  return parseProtocolText(text, label, abs);
}

export function parseProtocolText(text: string, label: string, abs: string): LoadedProtocol {
  const source = new YamlSource(text, label);
  const data = source.readData('protocol file');
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalid(label, [{ location: { file: label, line: 1, col: 1 }, message: 'the file holds no protocol mapping', hint: 'start from protocols/example.yaml' }]);
  }
  const parsed = protocolSchema.safeParse(data, { reportInput: true });
  const problems: Problem[] = parsed.success ? [] : problemsFromIssues(parsed.error.issues, source, protocolSchema);
  const secrets: Record<string, string> = {};
  problems.push(...semanticProblems(data as Record<string, unknown>, source, path.dirname(abs), secrets));
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0));
    throw invalid(label, problems);
  }
  return { file: abs, data: parsed.data, secrets };
}

function invalid(label: string, problems: Problem[]): FleetsimError {
  return new FleetsimError('FLEETSIM_E_PROTOCOL_INVALID', `${label} is not a valid protocol file (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
    problems,
    hint: 'the JSON Schema (schema/protocol.schema.json, `fleetsim schema --protocol`) lets your editor flag most of these as you type',
  });
}


export type PresetRefKind = 'builtin' | 'protocol' | 'module';

/** What a `target.preset` value names: a built-in, a protocol file (.yaml/.yml) or a JS module (.mjs/.js). */
export function presetRefKind(ref: string): PresetRefKind {
  if (/\.ya?ml$/i.test(ref)) return 'protocol';
  if (/\.(mjs|cjs|js)$/i.test(ref)) return 'module';
  return 'builtin';
}

/**
 * The problems of a scenario's `target.preset` (in `source`, the scenario): an unknown built-in, a
 * missing module, a preset the target cannot use, and every problem of a protocol file at the
 * protocol file's own `file:line:col`, after one line at the scenario's `target.preset`.
 */
export function checkPresetRef(target: Record<string, unknown>, source: YamlSource, baseDir: string): Problem[] {
  const ref = target.preset;
  if (typeof ref !== 'string' || ref === '') return [];
  const here = (message: string, hint: string, p: DocPath = ['target', 'preset']): Problem => ({ location: source.locate(p), path: formatPath(p), message, hint });
  const kind = presetRefKind(ref);
  const embedded = target.http === 'embedded' || target.mqtt === 'local-mosquitto';
  if (embedded && ref !== 'reference') return [here(`the embedded backend speaks only the reference protocol, not "${ref}"`, 'drop preset, or point http and mqtt at your backend (or use backend: example for protocols/example.yaml)')];
  if (kind === 'builtin') {
    return isBuiltInPresetName(ref) ? [] : [here(`unknown preset "${ref}"`, `${suggestionHint(ref, [...BUILT_IN_PRESET_NAMES], 'built-in presets')}; or give the path of a protocol file (.yaml) or a module (.mjs)`)];
  }
  const file = path.resolve(baseDir, ref);
  if (kind === 'module') {
    const st = statSync(file, { throwIfNoEntry: false });
    return st?.isFile() ? [] : [here(`module preset ${ref} does not exist`, `give a path relative to the scenario (${file} was looked for)`)];
  }
  try {
    const loaded = loadProtocolFile(file);
    const tls = rec(target.tls);
    if (loaded.data.auth.scheme === 'client-certificate' && tls.deviceCerts === undefined) {
      return [here(`protocol ${loaded.data.name} authenticates devices by client certificate, and the target gives them none`, 'write target.tls.deviceCerts: { fleetCa: {} } or { folder: ./certs }')];
    }
    return [];
  } catch (err) {
    if (!(err instanceof FleetsimError)) throw err;
    return [here(`protocol file "${ref}": ${err.message}`, err.hint ?? 'fix the problems listed for that file'), ...err.problems];
  }
}
