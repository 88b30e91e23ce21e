/**
 * Templates of protocol files: paths, headers, topics, client ids and bodies with `{{field}}`
 * placeholders filled per request from the device, and `${env:NAME}` / `${file:path}` secrets
 * filled once at load. A template is compiled once per run into literal runs and field slots;
 * rendering walks those parts and concatenates, with no parsing, regex or JSON work per request.
 */

/** The fields a template can name, and what each holds. */
export const TEMPLATE_FIELDS = {
  serial: 'the device serial (stable across runs and shards)',
  device: 'the global device index (0-based)',
  fleetKey: "the target's fleet or provisioning key (a secret)",
  deviceId: 'the device id provisioning returned (the serial when the answer names none)',
  token: 'the credential provisioning returned (bearer token, device key or password)',
  version: 'the target version (or ETag) the device last received; empty before the first (polls only)',
  ts: 'now, epoch milliseconds (in a telemetry payload: the time the message was scheduled)',
  seq: "a telemetry payload: the message's sequence number",
  release: 'a state report: the release the device runs',
  status: 'a state report: the update status (downloading, installing, success, failed …)',
  campaign: 'a state report: the campaign it is about (empty when none)',
  cause: 'a state report: why the update failed (empty when it did not)',
  bytes: 'a state report: artifact bytes downloaded so far',
  lines: 'a log upload: the log lines, newline-separated',
  suppressed: 'a log upload: lines dropped since the last upload (0: none)',
  correlationId: 'a command reply: the correlation id of the command answered; an MQTT request (and its response topic): the id the answer must carry',
  command: 'a command reply: the command name',
  ok: 'a command reply or end-of-line report: true or false',
  configVersion: 'a configuration ack: the version applied',
} as const;

export type TemplateField = keyof typeof TEMPLATE_FIELDS;
export const TEMPLATE_FIELD_NAMES = Object.keys(TEMPLATE_FIELDS) as TemplateField[];

/** Fields that hold numbers or booleans: a JSON body's `"{{field}}"` becomes a bare JSON value. */
const BARE_IN_JSON: ReadonlySet<TemplateField> = new Set(['device', 'ts', 'seq', 'bytes', 'ok', 'configVersion', 'suppressed']);

/** Where a template is used, and so which fields it may name. */
export type TemplateScope = 'provision' | 'device' | 'state' | 'logs' | 'reply' | 'telemetry' | 'provisionRequest' | 'deviceRequest';

const DEVICE_FIELDS: TemplateField[] = ['serial', 'device', 'fleetKey', 'deviceId', 'token', 'version', 'ts'];
export const SCOPE_FIELDS: Record<TemplateScope, readonly TemplateField[]> = {
  provision: ['serial', 'device', 'fleetKey', 'ts'],
  device: DEVICE_FIELDS,
  state: [...DEVICE_FIELDS, 'release', 'status', 'campaign', 'cause', 'bytes'],
  logs: [...DEVICE_FIELDS, 'lines', 'suppressed'],
  reply: [...DEVICE_FIELDS, 'correlationId', 'command', 'ok', 'configVersion'],
  telemetry: ['seq', 'ts'],
  provisionRequest: ['serial', 'device', 'fleetKey', 'ts', 'correlationId'],
  deviceRequest: [...DEVICE_FIELDS, 'correlationId'],
};

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}|\$\{(env|file):([^}]+)\}/g;

/** How a slot's value is written: as is, escaped inside a JSON string, or as a whole JSON value. */
const enum Escape {
  Raw = 0,
  InJsonString = 1,
  JsonValue = 2,
}

export interface TemplateProblem {
  message: string;
  hint: string;
}

/** A secret a template refers to; the loader reads it (scenario/secrets.ts) and hands the value in. */
export interface SecretRef {
  kind: 'env' | 'file';
  name: string;
}

/**
 * A compiled template: `literals[i]` precedes slot i, the last literal ends it. Slots hold a field
 * index (TEMPLATE_FIELD_NAMES) and how it is escaped.
 */
export interface CompiledTemplate {
  readonly literals: readonly string[];
  readonly fields: Uint8Array;
  readonly escapes: Uint8Array;
  /** True when the template names no field: `literals[0]` is the whole text. */
  readonly constant: boolean;
  /** Which fields it names (for checks such as "the telemetry topic must name the device"). */
  readonly uses: ReadonlySet<TemplateField>;
}

/** Field values of one device for one request; only the fields a template names are read. */
export type FieldValues = { readonly [K in TemplateField]?: string | number | boolean };

/** The secrets of a text, in order, for the loader to read. */
export function secretRefs(text: string): SecretRef[] {
  const out: SecretRef[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (m[2] !== undefined) out.push({ kind: m[2] as 'env' | 'file', name: m[3].trim() });
  return out;
}

/** The problems of a template used in `scope`: unknown fields, fields the scope does not have, unclosed braces. */
export function templateProblems(text: string, scope: TemplateScope): TemplateProblem[] {
  const out: TemplateProblem[] = [];
  const allowed = SCOPE_FIELDS[scope];
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m[1] === undefined) continue;
    const name = m[1];
    if (!(TEMPLATE_FIELD_NAMES as string[]).includes(name)) {
      out.push({ message: `unknown field {{${name}}}`, hint: `use one of: ${allowed.join(', ')}` });
    } else if (!allowed.includes(name as TemplateField)) {
      out.push({ message: `{{${name}}} is not known here`, hint: `${scopeWhere(scope)} can use: ${allowed.join(', ')}` });
    }
  }
  const stripped = text.replace(PLACEHOLDER, '');
  if (stripped.includes('{{') || stripped.includes('}}')) out.push({ message: 'an unclosed or empty {{placeholder}}', hint: 'write placeholders as {{field}}, e.g. {{serial}}' });
  if (/\$\{(?!env:|file:)/.test(stripped) || stripped.includes('${env:') || stripped.includes('${file:')) {
    out.push({ message: 'a ${...} that is not a secret reference', hint: 'secrets are ${env:NAME} or ${file:path}; device fields are {{field}}' });
  }
  return out;
}

function scopeWhere(scope: TemplateScope): string {
  switch (scope) {
    case 'provision':
      return 'provisioning (before the device has credentials)';
    case 'state':
      return 'a state report';
    case 'logs':
      return 'a log upload';
    case 'reply':
      return 'a command reply';
    case 'telemetry':
      return 'a telemetry payload (the same for every device, filled per message)';
    case 'provisionRequest':
      return 'a provisioning request over MQTT (before the device has credentials)';
    case 'deviceRequest':
      return 'a device request over MQTT';
    default:
      return 'a device request';
  }
}

/**
 * Compiles a text template. `secret` gives the value of each `${env:…}` / `${file:…}` (read once
 * by the loader). `json`: the text is a JSON document, so a field inside a string is escaped and
 * a string that is exactly `"{{field}}"` of a numeric field becomes a bare value.
 */
export function compileTemplate(text: string, secret: (ref: SecretRef) => string, json = false): CompiledTemplate {
  const literals: string[] = [];
  const fields: number[] = [];
  const escapes: number[] = [];
  const uses = new Set<TemplateField>();
  let lit = '';
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const at = m.index;
    lit += text.slice(last, at);
    last = at + m[0].length;
    if (m[2] !== undefined) {
      const value = secret({ kind: m[2] as 'env' | 'file', name: m[3].trim() });
      lit += json ? JSON.stringify(value).slice(1, -1) : value;
      continue;
    }
    const field = m[1] as TemplateField;
    let escape = json ? Escape.InJsonString : Escape.Raw;
    // "{{ts}}" as a whole JSON string: drop the quotes and write the value itself.
    if (json && BARE_IN_JSON.has(field) && lit.endsWith('"') && text[last] === '"') {
      lit = lit.slice(0, -1);
      last++;
      escape = Escape.JsonValue;
    }
    literals.push(lit);
    lit = '';
    fields.push(TEMPLATE_FIELD_NAMES.indexOf(field));
    escapes.push(escape);
    uses.add(field);
  }
  literals.push(lit + text.slice(last));
  return { literals, fields: Uint8Array.from(fields), escapes: Uint8Array.from(escapes), constant: fields.length === 0, uses };
}

/** A body template: a string is sent as it is, a mapping or list as JSON. */
export function compileBody(body: unknown, secret: (ref: SecretRef) => string): CompiledTemplate {
  return typeof body === 'string' ? compileTemplate(body, secret) : compileTemplate(JSON.stringify(body), secret, true);
}

/** The template's text for these values; a field the values lack is written as ''. */
export function renderTemplate(t: CompiledTemplate, values: FieldValues): string {
  if (t.constant) return t.literals[0];
  let out = t.literals[0];
  for (let i = 0; i < t.fields.length; i++) {
    const v = values[TEMPLATE_FIELD_NAMES[t.fields[i]]];
    const e = t.escapes[i];
    if (e === Escape.Raw) out += v === undefined ? '' : String(v);
    else if (e === Escape.JsonValue) out += v === undefined || v === '' ? 'null' : typeof v === 'string' && !/^-?\d+(\.\d+)?$/.test(v) ? JSON.stringify(v) : String(v);
    else out += v === undefined ? '' : typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : String(v);
    out += t.literals[i + 1];
  }
  return out;
}
