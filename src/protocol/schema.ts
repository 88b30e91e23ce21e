import * as z from 'zod';
import { parseDuration } from '../models/units.js';
import { isJsonPath, JSON_PATH_PATTERN } from './json-path.js';

/**
 * The one source of the protocol file's shape (protocols/*.yaml, `target.preset: ./my-api.yaml`):
 * the TypeScript types (`ProtocolInput`, `ProtocolData`), validation (strict objects: unknown keys
 * are errors) and the JSON Schema editors read (`renderProtocolJsonSchema()`, committed as
 * schema/protocol.schema.json). A protocol file says how each lifecycle step of a device maps onto
 * a backend's HTTP routes and MQTT topics, and where the answers' fields are found;
 * drivers/presets/declarative.ts speaks it. Template placeholders and secrets are checked by the
 * loader (scenario/protocol-load.ts), which knows each template's scope.
 *
 * Hints for a value of the wrong type come from each field's description or its custom issue.
 */

const template = (description: string, examples?: string[]) => z.string().meta({ description, ...(examples ? { examples } : {}) });

const jsonPath = (description: string) =>
  z
    .string()
    .check((ctx) => {
      if (!isJsonPath(ctx.value)) ctx.issues.push({ code: 'custom', message: `"${ctx.value}" is not a JSON path`, input: ctx.value, params: { hint: 'write a dotted path into the JSON answer, e.g. auth.access_token or $.firmware.artifacts[0].url' } });
    })
    .meta({ description, pattern: JSON_PATH_PATTERN });

const duration = (description: string) =>
  z
    .string()
    .check((ctx) => {
      const r = parseDuration(ctx.value);
      if (!r.ok) ctx.issues.push({ code: 'custom', message: r.message, input: ctx.value, params: { hint: r.hint } });
    })
    .meta({ description, examples: ['30s', '5m'] });

const statusList = (description: string, dflt: number[]) =>
  z
    .array(z.int().min(100).max(599).meta({ description: 'An HTTP status.' }))
    .default(dflt)
    .meta({ description });

const headers = z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'not an HTTP header name' }), template('Header value template.')).meta({
  description: 'Request headers: name → value template ({{field}} placeholders, ${env:NAME} / ${file:path} secrets).',
});

const body = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).meta({
  description: 'Request body template: a mapping or list is sent as JSON ("{{ts}}" of a numeric field becomes a bare number), a string as it is.',
});

const route = (what: string, defaultMethod: 'GET' | 'POST' | 'PUT') =>
  z.strictObject({
    method: z.enum(['GET', 'POST', 'PUT']).default(defaultMethod).meta({ description: `HTTP method of the ${what} request.` }),
    path: template(`Path template of the ${what} request, relative to target.http (may carry a query).`, ['/api/v2/devices/{{deviceId}}/desired']),
    headers: headers.optional(),
    body: body.optional(),
  });

const provisionAnswer = z
  .strictObject({
    deviceId: jsonPath('Where the device id is (default: the device keeps its serial as id).').optional(),
    token: jsonPath('Where the credential is: a bearer token, device key or password.').optional(),
    expiresIn: jsonPath('Where the credential lifetime is, in seconds (bearer tokens).').optional(),
    expiresAt: jsonPath('Where the credential expiry is, as epoch seconds (bearer tokens).').optional(),
  })
  .meta({ description: 'Where the provisioning answer carries the credentials.' });

const offer = z
  .strictObject({
    present: jsonPath('The update is offered when this field is present and not null (default: when `url` is).').optional(),
    campaign: jsonPath('Where the campaign or deployment id is (default: the release).').optional(),
    release: jsonPath('Where the offered release is.'),
    url: jsonPath('Where the artifact URL is (absolute, or a path on target.http).'),
    size: jsonPath('Where the artifact size in bytes is.'),
    sha256: jsonPath('Where the artifact hex SHA-256 is (absent: not verified).').optional(),
    target: z.enum(['app', 'os']).default('app').meta({ description: "What the update replaces: 'os' reboots the device." }),
  })
  .meta({ description: 'Where an update offer and its artifact are found in an answer or a message.' });

const config = z
  .strictObject({
    values: jsonPath('Where the configuration mapping (key → value) is.'),
    version: jsonPath('Where its monotonic version number is (default: a change of values is a new version).').optional(),
  })
  .meta({ description: 'Where a configuration and its version are found.' });

const pollAnswer = z
  .strictObject({
    version: jsonPath('Where the target version is (default: the ETag header).').optional(),
    release: jsonPath('Where the release the backend wants the device to run is.').optional(),
    update: offer.optional(),
    config: config.optional(),
    nextPoll: jsonPath('Where the backend says when to poll next, in seconds.').optional(),
  })
  .meta({ description: 'Where a poll answer carries its fields.' });

const http = z
  .strictObject({
    headers: headers.optional(),
    provision: route('provisioning', 'POST')
      .extend({ answer: provisionAnswer.prefault({}) })
      .optional()
      .meta({ description: 'Provisioning: the device presents its serial (and the fleet key) and gets credentials. Absent: mqtt.provision does it.' }),
    poll: route('poll', 'GET')
      .extend({
        sendVersion: z
          .union([z.literal('if-none-match'), z.literal('none'), z.strictObject({ header: z.string().min(1) })])
          .default('if-none-match')
          .meta({ description: 'How the device tells the backend the version it has: If-None-Match (ETag), a header of your naming, or none ({{version}} in the path or body does it).' }),
        unchanged: statusList('Statuses meaning "nothing new" (besides a 200 whose version is the one the device has).', [304]),
        answer: pollAnswer.prefault({}),
      })
      .optional()
      .meta({ description: 'The target-state poll (update check). Absent: mqtt.poll does it.' }),
    state: route('state report', 'PUT')
      .optional()
      .meta({ description: 'The state report (update progress); its body names {{release}}, {{status}}, {{campaign}}, {{cause}}, {{bytes}}. Absent: mqtt.state publishes it.' }),
    logs: route('log upload', 'POST')
      .optional()
      .meta({ description: 'Log upload over HTTP instead of MQTT: its body names {{lines}} (newline-separated) and {{suppressed}}; the answer is counted, not read. Absent: logs go to mqtt.topics.logs.' }),
    artifact: z
      .strictObject({ headers: headers.optional() })
      .optional()
      .meta({ description: 'Artifact download: the URL comes from the update offer; these headers go with each Range request (auth is added).' }),
  })
  .meta({ description: 'The HTTP routes of the device API.' });

const topic = (description: string, qos: 0 | 1) =>
  z
    .strictObject({
      topic: template('Topic template ({{serial}}, {{deviceId}} …); a subscription may use + and #.', ['acme/{{serial}}/up']),
      qos: z.literal([0, 1]).default(qos).meta({ description: 'QoS of this topic.' }),
    })
    .meta({ description });

const correlation = z
  .union([
    z.strictObject({ topicLevel: z.int().min(0).meta({ description: '0-based level of the topic that holds it.' }) }),
    z.strictObject({ path: jsonPath('Where the payload holds it.') }),
  ])
  .meta({ description: 'Where a command carries its correlation id: a topic level or a payload field.' });

const exchangeRequest = (what: string, example: string) =>
  z
    .strictObject({
      topic: template(`Topic the ${what} request is published on.`, [example]),
      payload: body.meta({ description: `Payload template of the ${what} request; {{correlationId}} is the id its answer must carry.` }),
      qos: z.literal([0, 1]).default(1).meta({ description: 'QoS of the request.' }),
    })
    .meta({ description: `The ${what} request the device publishes.` });

const correlationIn = z
  .union([
    z.strictObject({ in: z.literal('topic').meta({ description: 'The response topic has a level that is exactly {{correlationId}}.' }) }),
    z.strictObject({ in: z.literal('payload').meta({ description: 'The answer carries the id in a field.' }), path: jsonPath('Where the answer carries the correlation id.') }),
  ])
  .meta({ description: 'Where the answer carries the correlation id: { in: topic } or { in: payload, path: rid }. Absent: the response topic is the device\'s own, and any answer on it answers its one pending request.' });

const exchangeResponse = <A extends z.ZodType>(what: string, example: string, answer: A) =>
  z
    .strictObject({
      topic: template(`Topic the ${what} answer arrives on: the device subscribes to it before it publishes the request ({{correlationId}} as a whole level is subscribed as +).`, [example]),
      correlation: correlationIn.optional(),
      status: jsonPath('Where the answer carries an HTTP-like status: 2xx is done, any other is counted by cause (429, 503, other 4xx …), not fatal. Absent: 200 unless `error` says otherwise.').optional(),
      error: jsonPath('A field whose presence (not null or false) means the backend refused the request: counted with the answer\'s status when it has one, else as a 4xx.').optional(),
      timeout: duration('How long the device waits for the answer; then the request failed by timeout (errors.<route>.timeout, not fatal). Later answers are counted in mqtt.request.late.').default('10s'),
      answer,
    })
    .meta({ description: `Where the ${what} answer arrives and where its fields are.` });

const mqttProvision = z
  .strictObject({
    session: z
      .strictObject({
        clientId: template('MQTT client id of the provisioning session.', ['prov-{{serial}}']).default('prov-{{serial}}'),
        username: template('MQTT username of the provisioning session (absent: none).').optional(),
        password: template('MQTT password of the provisioning session, e.g. {{fleetKey}} (absent: none).').optional(),
      })
      .prefault({})
      .meta({ description: 'The session provisioning runs on, before the device has credentials; it is closed once answered, and the device then connects with mqtt.clientId/username/password.' }),
    request: exchangeRequest('provisioning', 'acme/enroll/{{serial}}/req'),
    response: exchangeResponse('provisioning', 'acme/enroll/{{serial}}/res/{{correlationId}}', provisionAnswer.prefault({})),
  })
  .meta({ description: 'Provisioning over MQTT request/response instead of http.provision.' });

const mqttPoll = z
  .strictObject({
    request: exchangeRequest('update check', 'acme/{{serial}}/desired/get'),
    response: exchangeResponse('update check', 'acme/{{serial}}/desired', pollAnswer.prefault({})).extend({
      unchanged: statusList('Statuses (from `status`) meaning "nothing new" (besides an answer whose version is the one the device has).', [304]),
    }),
  })
  .meta({ description: 'The target-state poll (update check) over MQTT request/response on the device\'s session, instead of http.poll.' });

const messages = z
  .strictObject({
    kind: jsonPath('Where the message says what it is.').optional(),
    kinds: z
      .strictObject({
        update: z.string().optional().meta({ description: 'Value of `kind` for an update offer.' }),
        config: z.string().optional().meta({ description: 'Value of `kind` for a configuration change.' }),
        command: z.string().optional().meta({ description: 'Value of `kind` for a command.' }),
      })
      .prefault({})
      .meta({ description: 'Which value of `kind` means which message (absent: every message is a command).' }),
    correlationId: correlation.optional(),
    command: z
      .strictObject({
        name: jsonPath('Where the command name is.'),
        issuedAt: jsonPath('Where the issue time is, epoch milliseconds (for round-trip times).').optional(),
        args: jsonPath('Where the command arguments are.').optional(),
      })
      .optional(),
    config: config.optional(),
    update: offer.optional(),
  })
  .meta({ description: 'How the messages the backend sends on the commands topic are read.' });

const mqtt = z
  .strictObject({
    clientId: template('MQTT client id template.', ['acme-{{serial}}']).default('{{deviceId}}'),
    username: template('MQTT username template (absent: none).').optional(),
    password: template('MQTT password template (absent: none).').optional(),
    topics: z
      .strictObject({
        telemetry: z
          .strictObject({
            topic: template('Topic template of telemetry ({{serial}}, {{deviceId}} …).', ['acme/{{serial}}/up']),
            payload: body
              .optional()
              .meta({ description: "Telemetry payload template when the scenario has no behaviour.telemetry.template: {{seq}} and {{ts}}, padded with trailing spaces to the scenario's size. Absent: fleetsim's padded {\"seq\":…} document." }),
          })
          .meta({ description: "Where telemetry is published; its QoS is the scenario's behaviour.telemetry.qos (what the run measures)." }),
        commands: topic('What the device subscribes to for commands, configuration and update offers.', 1).optional(),
        replies: topic('Where command replies, configuration acks and the end-of-line report are published ({{correlationId}} may place the id in the topic). Absent: <telemetry topic>/replies.', 1).optional(),
        logs: topic('Where log lines are published, one per line of the payload. Absent: <telemetry topic>/logs.', 0).optional(),
      })
      .meta({ description: 'Topic templates and QoS per topic.' }),
    messages: messages.optional(),
    provision: mqttProvision.optional(),
    poll: mqttPoll.optional(),
    state: z
      .strictObject({
        topic: template('Topic of state reports.', ['acme/{{serial}}/report']),
        qos: z.literal([0, 1]).default(1).meta({ description: 'QoS 1: the PUBACK answers the report; QoS 0: answered once written.' }),
        payload: body.meta({ description: 'Payload template: {{release}}, {{status}}, {{campaign}}, {{cause}}, {{bytes}}.' }),
      })
      .optional()
      .meta({ description: 'State reports (update progress) published over MQTT instead of http.state.' }),
    reply: body.optional().meta({ description: 'Payload template of a command reply ({{correlationId}}, {{command}}, {{ok}}); default {"id":"{{correlationId}}","ok":"{{ok}}"}.' }),
    configAck: body.optional().meta({ description: 'Payload template of a configuration ack on the replies topic ({{configVersion}}); default {"config":"{{configVersion}}"}.' }),
    endOfLine: body.optional().meta({ description: 'Payload template of the end-of-line test report on the replies topic ({{ok}}); default {"eol":"{{ok}}"}.' }),
  })
  .meta({ description: 'The MQTT session and its topics.' });

const auth = z
  .strictObject({
    scheme: z.enum(['bearer', 'basic', 'header', 'client-certificate', 'none']).meta({
      description:
        'How device requests prove who they are: bearer (Authorization: Bearer <token>), basic (HTTP basic from username/password), header (a header of your naming), client-certificate (mutual TLS, target.tls.deviceCerts), none.',
    }),
    username: template('HTTP basic username template.').optional(),
    password: template('HTTP basic password template.').optional(),
    header: z.strictObject({ name: z.string().min(1), value: template('Header value template.') }).optional().meta({ description: 'scheme header: the header that carries the credential.' }),
    tokenLifetime: duration('Bearer token lifetime when the provisioning answer gives none (absent: the token never expires).').optional(),
    renewBefore: duration('Re-authenticate this long before the token expires.').default('0s'),
    reauthenticate: statusList('Statuses meaning the credential is no longer good: the device provisions again (counted in auth.reauth, not fatal).', [401]),
  })
  .check((ctx) => {
    const a = ctx.value;
    const need = (key: 'username' | 'password' | 'header', scheme: string): void => {
      if (a[key] === undefined) ctx.issues.push({ code: 'custom', path: [], message: `scheme ${scheme} needs "${key}"`, input: a, params: { hint: scheme === 'basic' ? 'write username: "{{deviceId}}" and password: "{{token}}"' : 'write header: { name: x-device-token, value: "{{token}}" }' } });
    };
    if (a.scheme === 'basic') {
      need('username', 'basic');
      need('password', 'basic');
    }
    if (a.scheme === 'header') need('header', 'header');
    for (const k of ['username', 'password', 'header'] as const) {
      const used = k === 'header' ? a.scheme === 'header' : a.scheme === 'basic';
      if (a[k] !== undefined && !used) ctx.issues.push({ code: 'custom', path: [k], message: `"${k}" applies only to scheme ${k === 'header' ? 'header' : 'basic'}`, input: a[k], params: { hint: `remove it, or set scheme: ${k === 'header' ? 'header' : 'basic'}`, atKey: true } });
    }
  })
  .meta({ description: 'How devices authenticate.' });

export const protocolSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Path or URL of this JSON Schema, for editors.' }),
    name: z
      .string()
      .check((ctx) => {
        if (!/^[a-z0-9][a-z0-9._-]*$/.test(ctx.value)) ctx.issues.push({ code: 'custom', message: `"${ctx.value}" is not a protocol name`, input: ctx.value, params: { hint: 'use lower-case letters, digits, dots, dashes and underscores, e.g. acme-things' } });
      })
      .meta({ description: 'Name of the protocol, shown in reports.', examples: ['acme-things'] }),
    description: z.string().optional().meta({ description: 'What backend speaks it.' }),
    auth,
    http,
    mqtt,
  })
  .meta({ title: 'fleetsim protocol file', description: "How fleetsim's devices talk to a fleet backend: HTTP routes, MQTT topics, authentication, and where answers carry their fields." });

/** The protocol as written (what editors complete). */
export type ProtocolInput = z.input<typeof protocolSchema>;
/** The protocol after validation, literal defaults filled in. */
export type ProtocolData = z.output<typeof protocolSchema>;

export function protocolJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(protocolSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
}

/** The committed file's exact text (schema/protocol.schema.json): `fleetsim schema --protocol --out` writes it, a test checks it. */
export function renderProtocolJsonSchema(): string {
  return JSON.stringify(protocolJsonSchema(), null, 2) + '\n';
}
