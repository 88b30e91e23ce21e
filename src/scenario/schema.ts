import * as z from 'zod';
import { metricNames } from '../metrics/catalog.js';
import { MAX_LINK_PARAMETER_SETS } from '../models/link.js';
import { inlineProfileRefSchema } from './profile-schema.js';
import { fleetOpsSchemas } from './fleet-ops-schema.js';
import { backendSchema } from './backend-schema.js';
import { telemetryTemplateSchema } from './telemetry-template-schema.js';
import { BIT_RATE, DURATION, MIN_INTERVAL, PERCENT, RATE, SIZE, schemaHelpers, unitString, url, withHint } from './scenario-fields.js';
import { BUILT_IN_PRESET_NAMES } from '../protocol/built-in-presets.js';
import { PLATFORM_FAKE_NAMES } from '../wire/platform-fakes.js';
import { costSchema } from './cost-schema.js';
import { lifetimeSchema } from './lifetime-schema.js';
import { faultSchemas } from './fault-schema.js';
import { parsePercent } from '../models/units.js';

/**
 * The one source of the scenario's shape: the TypeScript types (`ScenarioInput`, `ScenarioData`),
 * validation (zod, strict objects so unknown keys are errors) and the JSON Schema that editors use
 * (`scenarioJsonSchema()`, committed as schema/scenario.schema.json).
 *
 * Unit strings are validated by models/units.ts, so the messages and hints are the ones every
 * other part of fleetsim gives; the leaf builders are in scenario-fields.ts. Semantic checks that
 * need outside knowledge (profile names, metric names, threshold grammar) live in checks.ts;
 * defaults that need computing live in resolve.ts. Literal defaults live here so the JSON Schema shows them to editors.
 */

/**
 * Bounds of the fleet. 10 million devices: the largest fleet the simulator's per-device tables
 * are sized for (128 bytes each, 1.3 GB; bench/RESULTS.md measured 500,000); larger fleets are
 * split over machines with --shard. 256 groups: each group is one link parameter set of a shard
 * (models/link.ts), indexed by one byte per device. 100 characters of name: the report folder is named after it, and a
 * file name may be at most 255 bytes.
 */
export const MAX_DEVICES = 10_000_000;
export const MAX_FLEET_GROUPS = MAX_LINK_PARAMETER_SETS;
export const MAX_NAME_LENGTH = 100;

const fleetKey = z.string().min(1).meta({ description: 'Shared fleet provisioning key devices present to get their own key. A secret: write ${env:NAME} or ${file:path} to keep it out of the file.', examples: ['${env:FLEET_KEY}', '${file:./fleet-key.txt}'] });

const tls = z
  .strictObject({
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA certificates to trust, relative to the scenario (default: the system roots; with mqtt: local-mosquitto, the fleet CA).' }),
    servername: z.string().min(1).optional().meta({ description: 'TLS server name (SNI) to send and verify, when it differs from the URL host.' }),
    insecure: z.boolean().default(false).meta({ description: "Skip verifying the server's certificate (test servers only; the report warns)." }),
    deviceCerts: z
      .strictObject({
        fleetCa: z
          .strictObject({
            dir: z.string().min(1).optional().meta({ description: 'Folder holding the fleet CA (ca.crt, ca.key), created there if absent so a broker can be told to trust it; default: a new CA for this run.' }),
            commonName: z.string().min(1).optional().meta({ description: 'Subject CN of each device certificate; {serial} is the device serial. Default: the id the embedded backend gives the device (d-{serial}) with mqtt: local-mosquitto, else {serial}.' }),
            untrusted: unitString(PERCENT, 'Share of devices whose certificate comes from a CA the broker does not trust (to test refusals).').default('0%'),
          })
          .optional()
          .meta({ description: 'fleetsim runs a fleet CA and issues each device an EC P-256 key and certificate before the run starts.' }),
        folder: z.string().min(1).optional().meta({ description: 'Folder of device certificates made by your PKI: <serial>.crt and <serial>.key (PEM), relative to the scenario.' }),
      })
      .check((ctx) => {
        if ((ctx.value.fleetCa === undefined) === (ctx.value.folder === undefined)) {
          ctx.issues.push({ code: 'custom', path: [], message: 'deviceCerts needs exactly one of "fleetCa" or "folder"', input: ctx.value, params: { hint: 'write deviceCerts: { fleetCa: {} } or deviceCerts: { folder: ./certs }' } });
        }
      })
      .optional()
      .meta({ description: 'Per-device client certificates for MQTT (mutual TLS).' }),
  })
  .meta({ description: 'TLS for mqtts:// and https:// targets: trust, server name, per-device client certificates. With mqtt: local-mosquitto, fleetsim starts Mosquitto with a TLS listener (and require_certificate with deviceCerts).' });

const targetObject = z
  .strictObject({
    embedded: z.strictObject({ fleetKey: fleetKey.optional() }).optional().meta({ description: 'The embedded reference backend, with options.' }),
    http: z.union([z.literal('embedded'), url(['http', 'https'], 'Base URL of the fleet HTTP API.')]).optional().meta({ description: 'Base URL of the fleet HTTP API, or "embedded" for the embedded one (the default with local-mosquitto).' }),
    mqtt: z.union([z.literal('local-mosquitto'), url(['mqtt', 'mqtts'], 'URL of the MQTT broker.')]).optional().meta({ description: 'URL of the MQTT broker, or "local-mosquitto": fleetsim starts Mosquitto processes on loopback and stops them at the end.' }),
    brokers: withHint(z.int().min(1).max(64).optional().meta({ description: 'How many local Mosquitto processes to start and spread devices over (with mqtt: local-mosquitto).' }), 'a whole number of brokers from 1 to 64'),
    preset: withHint(
      z.string().min(1).optional().meta({
        description: `How lifecycle steps map onto the backend API: a built-in preset (${BUILT_IN_PRESET_NAMES.join(', ')}), a protocol file (.yaml, relative to the scenario; schema/protocol.schema.json) or a JavaScript module implementing the preset interface (.mjs; docs/presets.md).`,
        examples: ['reference', '../protocols/example.yaml', './my-preset.mjs'],
      }),
      'write preset: reference, a protocol file such as ../protocols/example.yaml, or a module such as ./my-preset.mjs',
    ),
    backend: z.enum(PLATFORM_FAKE_NAMES).optional().meta({ description: `Start a local test backend of this flavour on loopback and point devices at it instead of http and mqtt (${PLATFORM_FAKE_NAMES.join(', ')}): example speaks protocols/example.yaml's protocol; the others are fakes of those platforms' device APIs (docs/presets/), driven by the presets of the same name. Each counts what it received per device, so the run reconciles with it.` }),
    fleetKey: fleetKey.optional(),
    tls: tls.optional(),
  })
  .check((ctx) => {
    const t = ctx.value;
    if (t.embedded !== undefined) {
      for (const k of ['http', 'mqtt', 'preset', 'backend', 'fleetKey', 'tls'] as const) {
        if (t[k] !== undefined) {
          ctx.issues.push({ code: 'custom', path: [k], message: `"${k}" cannot be combined with "embedded"`, input: t[k], params: { hint: 'an embedded target takes only { embedded: { fleetKey } }; an external one takes http, mqtt, preset and fleetKey', atKey: true } });
        }
      }
      return;
    }
    if (t.backend !== undefined) {
      for (const k of ['http', 'mqtt', 'brokers'] as const) {
        if (t[k] !== undefined) ctx.issues.push({ code: 'custom', path: [k], message: `"${k}" cannot be combined with "backend"`, input: t[k], params: { hint: 'a local test backend gives its own HTTP and MQTT addresses; drop this key', atKey: true } });
      }
      if (t.preset === undefined) ctx.issues.push({ code: 'custom', path: ['backend'], message: 'a test backend needs the protocol it speaks in "preset"', input: t.backend, params: { hint: t.backend === 'example' ? 'write preset: ../protocols/example.yaml' : `write preset: ${t.backend}`, atKey: true } });
      else if (t.backend !== 'example' && t.preset !== t.backend) ctx.issues.push({ code: 'custom', path: ['preset'], message: `the ${t.backend} fake speaks the ${t.backend} device API, not "${t.preset}"`, input: t.preset, params: { hint: `write preset: ${t.backend}`, atKey: true } });
      return;
    }
    if (t.brokers !== undefined && t.mqtt !== 'local-mosquitto') {
      ctx.issues.push({ code: 'custom', path: ['brokers'], message: '"brokers" applies only to mqtt: local-mosquitto', input: t.brokers, params: { hint: 'write target: { mqtt: local-mosquitto, brokers: 4 }', atKey: true } });
    }
    for (const k of ['http', 'mqtt'] as const) {
      if (t[k] === undefined && !(k === 'http' && t.mqtt === 'local-mosquitto')) {
        ctx.issues.push({ code: 'custom', path: [], message: `an external target needs "${k}"`, input: t, params: { hint: 'write target: { http: https://api.example.com, mqtt: mqtts://broker:8883 } or target: embedded' } });
      }
    }
  });

const target = z
  .union([z.literal('embedded'), targetObject], {
    error: () => ({ message: 'target must be "embedded" or an object such as { http: https://…, mqtt: mqtts://… }' }),
  })
  .meta({ description: 'The backend under test: the embedded reference backend (default) or an external one.' });
withHint(target, 'write target: embedded, or target: { http: https://api.example.com, mqtt: mqtts://broker:8883 }');

/** A profile by name, by path (relative to the scenario), or made in place with `extends` (profile-schema.ts). */
const profileRef = z
  .union([z.string().min(1).meta({ description: 'A profile name from profiles/, or the path of a profile file relative to this scenario.', examples: ['rpi4-gateway', './boards/my-tracker.yaml'] }), inlineProfileRefSchema], {
    error: () => ({ message: 'profile must be a name, the path of a profile file, or { extends: NAME, ...overrides }' }),
  })
  .meta({ description: 'Hardware profile: a name (fleetsim profiles lists them), a profile file, or { extends: NAME, ...overrides }.' });
withHint(profileRef, 'write a profile name such as rpi4-gateway, a path such as ./my-board.yaml, or { extends: nrf9160-tracker, power: { battery: { capacity: 3.6Ah } } }');

const fleetGroup = z
  .strictObject({
    profile: profileRef,
    count: withHint(z.int().min(1).max(MAX_DEVICES).meta({ description: 'How many devices of this kind.' }), `a whole number of devices, from 1 to ${MAX_DEVICES}`),
    link: z.string().min(1).optional().meta({ description: "Link model; defaults to the profile's usual link.", examples: ['ethernet', 'wifi', 'lte-m'] }),
    netem: z
      .strictObject({
        delay: unitString(DURATION, 'One-way delay (netem delay).').optional(),
        jitter: unitString(DURATION, 'Delay jitter (netem jitter).').optional(),
        distribution: z.enum(['uniform', 'normal', 'pareto', 'paretonormal']).optional().meta({ description: 'Jitter distribution (netem distribution).' }),
        loss: unitString(PERCENT, 'Random packet loss (netem loss).').optional(),
        gemodel: z.array(unitString(PERCENT, 'p, r, 1-h, 1-k')).length(4).optional().meta({ description: 'Bursty loss as netem "loss gemodel p r 1-h 1-k": [p, r, 1-h, 1-k].' }),
        rate: unitString(BIT_RATE, 'Link rate (netem rate).').optional(),
      })
      .optional()
      .meta({ description: "Overrides of the link model in tc/netem's names." }),
    session: z.enum(['always', 'per-report']).optional().meta({ description: "This group's session mode, overriding behaviour.session: sleepy trackers (per-report) and standing gateways (always) in one fleet." }),
    cells: withHint(z.int().min(1).max(MAX_DEVICES).optional().meta({ description: 'Spread this group over N cells (or gateways): a cell outage takes all of its devices down together.' }), 'a whole number of cells, at least 1, e.g. cells: 10'),
  })
  .meta({ description: 'A group of identical devices.' });

const arrival = z
  .strictObject({
    rate: unitString(RATE, 'How fast devices power on at the start.', { positive: true }),
    rampTo: unitString(RATE, 'Power-on rate at the end of a linear ramp.', { positive: true }).optional(),
    over: unitString(DURATION, 'Length of the ramp.', { positive: true }).optional(),
  })
  .check((ctx) => {
    const a = ctx.value;
    if ((a.rampTo === undefined) !== (a.over === undefined)) {
      const missing = a.rampTo === undefined ? 'rampTo' : 'over';
      ctx.issues.push({ code: 'custom', path: [], message: `a ramp needs both "rampTo" and "over"; "${missing}" is missing`, input: a, params: { hint: 'write arrival: { rate: 20/s, rampTo: 100/s, over: 30s }' } });
    }
  })
  .meta({ description: 'How fast devices power on: a factory line, or a field powering up after an outage.' });

const fleetOps = fleetOpsSchemas(schemaHelpers);
const backend = backendSchema(schemaHelpers);
const faults = faultSchemas(schemaHelpers);
const telemetryTemplate = telemetryTemplateSchema(schemaHelpers);

const jitter = (what: string) => unitString(PERCENT, `Random spread of the ${what} interval, as a share of it.`).default('10%');

/** Reconnect backoff defaults: the AWS IoT device SDKs go from 1 s to 128 s (docs/models.md). */
export const RECONNECT_DEFAULTS = { base: '1s', cap: '128s' } as const;

/**
 * Default spread added to a server's Retry-After: a device waits Retry-After × (1 + jitter × u), u
 * uniform in [0, 1). RFC 9110 §10.2.3 makes Retry-After the time a client ought to wait at least,
 * so jitter only ever adds. 100% spreads the retries of devices told to wait together uniformly
 * over one more Retry-After window: the fleet comes back at about N / Retry-After requests per
 * second, the rate the server asked for, instead of N at once ("full jitter", the variant the AWS
 * Architecture Blog's "Exponential Backoff and Jitter" found to cause the least contention).
 */
export const RETRY_AFTER_JITTER_DEFAULT = '100%';

/** Down-time lengths of an on/off process. */
function downtimeSchema() {
  return z
    .strictObject({
      distribution: z.enum(['exponential', 'lognormal', 'pareto', 'weibull']).default('lognormal').meta({ description: 'Family of down-time lengths; heavy tails (pareto) set the tail of rollout completion.' }),
      median: unitString(DURATION, 'Median down time.', { positive: true }).optional(),
      mean: unitString(DURATION, 'Mean down time.', { positive: true }).optional(),
      shape: z.number().positive().max(100).optional().meta({ description: 'lognormal sigma, Pareto alpha or Weibull shape (defaults: 1, 2.5, 0.7).' }),
    })
    .check((ctx) => {
      if ((ctx.value.median === undefined) === (ctx.value.mean === undefined)) {
        ctx.issues.push({ code: 'custom', path: [], message: 'downtime needs exactly one of "median" or "mean"', input: ctx.value, params: { hint: 'write downtime: { distribution: lognormal, median: 5m }' } });
      }
    });
}

const behaviour = z
  .strictObject({
    telemetry: z
      .strictObject({
        every: unitString(DURATION, 'Telemetry interval.', { positive: true, min: MIN_INTERVAL }),
        jitter: jitter('telemetry'),
        size: unitString(SIZE, 'Telemetry payload size (padding; ignored when a template is given).', { max: '1MiB' }).default('200B'),
        template: telemetryTemplate.optional(),
        qos: withHint(z.literal([0, 1]).default(1).meta({ description: 'MQTT QoS of telemetry publishes.' }), 'use 0 (at most once) or 1 (at least once)'),
      })
      .optional(),
    poll: z.strictObject({ every: unitString(DURATION, 'Target-state poll interval.', { positive: true, min: MIN_INTERVAL }), jitter: jitter('poll') }).optional(),
    reconnect: z
      .strictObject({
        base: unitString(DURATION, 'First reconnect backoff (full jitter).', { positive: true }).default(RECONNECT_DEFAULTS.base),
        cap: unitString(DURATION, 'Largest reconnect backoff.', { positive: true }).default(RECONNECT_DEFAULTS.cap),
      })
      .prefault({})
      .meta({ description: 'Reconnect backoff; defaults are the AWS IoT device SDKs: 1s to 128s.' }),
    retryAfterJitter: unitString(
      PERCENT,
      'Random wait added to a Retry-After, as a share of it: a device waits Retry-After × (1 + jitter × u), u uniform in [0, 1), so devices told to wait together do not retry in lockstep. 0% waits exactly Retry-After. Default 100%: the retries spread over one more Retry-After window (full jitter).',
    ).default(RETRY_AFTER_JITTER_DEFAULT),
    keepalive: unitString(DURATION, 'MQTT keepalive, whole seconds up to 65535s.', { max: '65535s' }).default('60s'),
    session: z.enum(['always', 'per-report']).default('always').meta({ description: 'always: a standing MQTT session (gateways); per-report: sleepy devices (PSM/eDRX) wake for each report, connect, send and sleep again.' }),
    offline: z
      .strictObject({
        availability: unitString(PERCENT, 'Long-run share of time each device has a link, e.g. 90%.'),
        backup: z
          .strictObject({
            availability: unitString(PERCENT, 'Long-run share of time the backup link is up.'),
            downtime: downtimeSchema(),
            switchover: unitString(DURATION, 'Time to switch to the backup once the primary is down.').default('30s'),
          })
          .optional()
          .meta({ description: 'A backup link (a second operator, say) with its own outages; the device fails over to it after `switchover`.' }),
        downtime: downtimeSchema(),
      })
      .check((ctx) => {
        const a = parsePercent(ctx.value.availability);
        if (a.ok && (a.value <= 0 || a.value >= 1)) {
          ctx.issues.push({ code: 'custom', path: ['availability'], message: `availability must be between 0% and 100% (exclusive), not ${ctx.value.availability}`, input: ctx.value, params: { hint: 'a device that is never offline needs no offline block; 99.9% is a well-connected device, 20% a mostly-asleep one' } });
        }
      })
      .optional()
      .meta({ description: 'Each device goes offline on its own (an on/off renewal process): availability and down-time distribution.' }),
    ...fleetOps.behaviour,
  })
  .meta({ description: 'What each device does once it is on.' });

/** Phase kinds. */
export const PHASE_KINDS = ['update', 'outage', 'command', 'config', 'backend'] as const;

const phase = z
  .strictObject({
    at: unitString(DURATION, 'When the phase starts, from the start of the run.'),
    update: fleetOps.update.optional(),
    outage: z
      .strictObject({
        scope: z.enum(['cell', 'device', 'fleet']).default('cell').meta({ description: 'cell: whole cells (fleet[].cells); device: devices picked one by one; fleet: everyone.' }),
        fraction: unitString(PERCENT, 'Share of cells (or devices) that go down.').default('100%'),
        duration: unitString(DURATION, 'How long they stay down.', { positive: true }),
      })
      .optional()
      .meta({ description: 'Take part of the fleet offline at once; when it returns, devices reconnect together (a reconnect storm).' }),
    command: fleetOps.command.optional(),
    config: fleetOps.config.optional(),
    backend: faults.backend.optional(),
    for: unitString(DURATION, 'How long a backend fault lasts (a broker restart: how long the broker stays down; default 0s).').optional(),
    scope: faults.scope.optional(),
  })
  .check((ctx) => {
    const kinds = PHASE_KINDS.filter((k) => ctx.value[k] !== undefined);
    for (const k of ['for', 'scope'] as const) {
      if (ctx.value[k] !== undefined && ctx.value.backend === undefined) {
        ctx.issues.push({ code: 'custom', path: [k], message: `"${k}" applies only to backend phases`, input: ctx.value[k], params: { hint: k === 'for' ? 'an outage takes outage.duration; write - { at: 1m, for: 30s, backend: { http: { status: 503 } } }' : 'write - { at: 1m, for: 30s, scope: { devices: 20% }, backend: { mqtt: { disconnect: {} } } }', atKey: true } });
      }
    }
    if (ctx.value.backend !== undefined && ctx.value.backend.broker === undefined && ctx.value.for === undefined) {
      ctx.issues.push({ code: 'custom', path: [], message: 'a backend fault needs "for" (how long it lasts)', input: ctx.value, params: { hint: 'write - { at: 2m, for: 1m, backend: { http: { status: 503 } } }' } });
    }
    if (kinds.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        path: [],
        message: kinds.length === 0 ? 'a phase needs one of: ' + PHASE_KINDS.join(', ') : `a phase has exactly one kind, not ${kinds.join(' and ')}`,
        input: ctx.value,
        params: { hint: 'write e.g. - { at: 30s, outage: { fraction: 30%, duration: 15s } }; split several kinds into several phases' },
      });
    }
  });

const thresholdList = withHint(
  z.array(z.string()).min(1).meta({ description: 'k6-style expressions, all of which must hold.', examples: [['p(99) < 500ms'], ['count == 0']] }),
  'write a list of expressions: ["p(99) < 500ms"]',
);

const options = z
  .strictObject({
    mqttClient: z.enum(['mqttjs', 'lean']).default('lean').meta({ description: "MQTT client: mqtt.js, or fleetsim's own lean client, which encodes and decodes MQTT 3.1.1 frames itself (about 4x less memory per session)." }),
    mqttPipelining: z
      .boolean()
      .default(false)
      .meta({ description: "Devices send their SUBSCRIBEs right after CONNECT, in the same write, without waiting for CONNACK (MQTT 3.1.1 §3.1 allows it; some firmware does, most SDKs wait). Saves one round trip per session; a refused CONNECT takes them with it. Default: subscribe once CONNACK accepts." }),
    embeddedBroker: z.enum(['lean', 'aedes']).default('lean').meta({ description: "MQTT broker of the embedded backend (target: embedded): fleetsim's own lean MQTT 3.1.1 broker, or aedes. Same logins, topics and counting; the lean one needs a fraction of the CPU per connecting device (bench/fleet-ops.mjs)." }),
    http: z
      .strictObject({
        client: z.enum(['lean', 'undici']).default('lean').meta({ description: "HTTP client: fleetsim's own lean HTTP/1.1 client (about half the CPU per request of undici, see bench/http-poll.mjs), or undici." }),
        connections: z.enum(['pooled', 'per-device']).default('pooled').meta({ description: "HTTP connections: a pool per shard, or one per device. Keep-alive either way; an idle connection within 2 s of the server's advertised `Keep-Alive: timeout` is closed rather than reused (as undici does), so no request is sent into the server's close." }),
        poolSize: z.int().min(1).max(100_000).default(64).meta({ description: 'Connections per shard pool.' }),
      })
      .prefault({}),
    maxScheduleLag: unitString(DURATION, 'Scheduler lag (and event-loop delay) past which the measurement is invalid (exit 3); half of the tightest tail latency threshold applies when that is smaller.', { positive: true }).default('2s'),
    snapshotEvery: unitString(DURATION, 'Interval of metric snapshots (timeline rows). Default: 1s on the wall clock; on the virtual clock about 1/720 of the duration (at least 1s), so long simulations are not slowed by snapshots.', { positive: true, min: '10ms' }).optional(),
    linkModel: z.boolean().default(true).meta({ description: 'Apply the link model (delay, packet loss, bandwidth and retransmission) to every exchange: telemetry, provisioning, connects, polls, state reports, downloads, uplinks and pushes; false for an ideal link.' }),
    projectAfter: unitString(DURATION, 'Virtual clock: simulate event by event for this long, then project battery lifetimes in closed form to the end of the run.', { positive: true }).optional(),
  })
  .meta({ description: 'How fleetsim generates load.' });

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema for editors.' }),
    name: withHint(z.string().min(1).max(MAX_NAME_LENGTH).meta({ description: 'Scenario name, used in reports (and in the report folder\'s name).' }), `a short name such as quickstart, at most ${MAX_NAME_LENGTH} characters`),
    seed: withHint(z.int().min(0).max(0xffff_ffff).default(1).meta({ description: 'Seed of every random draw; same seed, same run.' }), 'a whole number from 0 to 4294967295'),
    duration: unitString(DURATION, 'How long the run lasts (simulated time).', { positive: true }),
    clock: z.enum(['wall', 'virtual']).default('wall').meta({ description: 'wall: real sockets in real time; virtual: discrete-event simulation against a backend model.' }),
    timeScale: withHint(z.number().positive().max(1000).default(1).meta({ description: 'Simulated seconds per wall second (wall clock).' }), 'a number above 0 and at most 1000; 1 is real time'),
    target: target.default('embedded'),
    fleet: withHint(z.array(fleetGroup).min(1).max(MAX_FLEET_GROUPS).meta({ description: 'The devices, by group.' }), 'write fleet: [{ profile: rpi4-gateway, count: 10 }]'),
    arrival,
    behaviour: behaviour.prefault({}),
    provisioning: fleetOps.provisioning.optional(),
    backend: backend.optional(),
    phases: z.array(phase).default([]).meta({ description: 'Timed events: updates, outages, commands, config changes, backend faults.' }),
    cost: costSchema(schemaHelpers),
    lifetime: lifetimeSchema(schemaHelpers),
    thresholds: z.record(z.string(), thresholdList).default({}).meta({ description: 'Pass/fail criteria by metric name (k6 grammar).' }),
    options: options.prefault({}),
  })
  .meta({ title: 'fleetsim scenario', description: 'A fleetsim scenario: a fleet, its behaviour, timed phases and pass/fail thresholds.' });

/** The scenario as written in YAML (what editors complete). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** The scenario after validation, literal defaults filled in. */
export type ScenarioData = z.output<typeof scenarioSchema>;

/** The JSON Schema (draft-07, which editors such as yaml-language-server read) of the input side. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  const props = schema.properties as Record<string, Record<string, unknown>>;
  // Let editors complete metric names; validation checks them separately with a better message.
  props.thresholds.propertyNames = { enum: metricNames() };
  return schema;
}

/** The committed file's exact text (schema/scenario.schema.json): `fleetsim schema --out` writes it, a test checks it. */
export function renderScenarioJsonSchema(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}
