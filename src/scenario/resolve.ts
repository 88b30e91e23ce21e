import { compileThreshold } from '../metrics/thresholds.js';
import { parseBitRate, parseDuration, parsePercent, parseRate, parseSize, type Parsed } from '../models/units.js';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { FleetsimError } from '../errors/fleetsim-error.js';
import { readSecret } from './secrets.js';
import { deepFreeze } from './deep-freeze.js';
import { resolveProfileRef } from './profile-load.js';
import type { ScenarioData } from './schema.js';
import type { ResolvedDowntime, ResolvedFleetGroup, ResolvedPhase, ResolvedPreset, ResolvedScenario, ResolvedTarget, ResolvedThreshold, ResolvedTls } from './resolved.js';
import { loadProtocolFile, presetRefKind } from './protocol-load.js';
import { isBuiltInPresetName } from '../protocol/built-in-presets.js';
import { templateSpecOf, type TemplateInput } from './telemetry-template-schema.js';
import type { TemplateSpec } from '../payload/template-spec.js';
import { compileTemplate, estimatedBytes } from '../payload/template-compile.js';
import { resolveBackend } from './backend-schema.js';
import { resolveCost, resolveLifetime } from './cost-lifetime-resolve.js';
import { resolveFleetOpsBehaviour, resolveFleetOpsPhase, resolveProvisioning } from './fleet-ops-resolve.js';
import { resolveFaultPhase } from './fault-resolve.js';

/** Command-line settings that win over the file's. */
export interface ScenarioOverrides {
  clock?: 'wall' | 'virtual';
  workers?: number;
  seed?: number;
  /** A duration string such as `30s`, or milliseconds. */
  duration?: string | number;
}

/** The resolved telemetry template, when one is given (validation already compiled it once). */
function templateOf(t: TemplateInput | undefined): { template?: TemplateSpec; sizeBytes?: number } {
  if (t === undefined) return {};
  const spec = templateSpecOf(t);
  const compiled = spec.ok ? compileTemplate(spec.value) : undefined;
  if (!spec.ok || !compiled?.ok) throw new Error('resolveScenario: a telemetry template passed validation but does not compile');
  // The size models need up front (LoRaWAN airtime, oversize frames) is the template's.
  return { template: spec.value, sizeBytes: estimatedBytes(compiled.template) };
}

/** The embedded backend's fleet key when the scenario names none (a development key, never a secret). */
export const DEFAULT_EMBEDDED_FLEET_KEY = 'fleetsim-dev-key';

/**
 * Turns validated data into the `ResolvedScenario` the engine consumes: unit strings become
 * numbers, profile defaults are applied, thresholds are compiled, and the result is deep-frozen.
 * Only call it on data that passed validation (load.ts does): a failure here is a fleetsim bug.
 */
export function resolveScenario(data: ScenarioData, file: string, overrides: ScenarioOverrides = {}): ResolvedScenario {
  const b = data.behaviour;
  const fleet: ResolvedFleetGroup[] = [];
  let next = 0;
  // Profile paths are relative to the scenario file ('<inline>' text: the current directory).
  const baseDir = file === '<inline>' ? process.cwd() : path.dirname(file);
  data.fleet.forEach((g, index) => {
    const hardware = resolveProfileRef(g.profile, baseDir, { origin: `scenario ${path.basename(file)} fleet[${index}].profile` });
    fleet.push({
      index,
      profile: hardware.name,
      count: g.count,
      link: g.link ?? hardware.links[0],
      session: g.session ?? b.session,
      firstDevice: next,
      ...(g.cells === undefined ? {} : { cells: g.cells }),
      ...(g.netem === undefined ? {} : { netem: resolveNetem(g.netem) }),
      hardware,
    });
    next += g.count;
  });

  const thresholds: ResolvedThreshold[] = [];
  for (const [metric, list] of Object.entries(data.thresholds)) {
    for (const expression of list) {
      const t = compileThreshold(metric, expression);
      if (!t.ok) throw new Error(`resolveScenario: threshold "${metric}: ${expression}" passed validation but does not compile: ${t.message}`);
      thresholds.push(t.value);
    }
  }

  const durationMs = overrides.duration === undefined ? ms(data.duration) : typeof overrides.duration === 'number' ? overrides.duration : ms(overrides.duration);
  const resolved: ResolvedScenario = {
    name: data.name,
    file,
    seed: overrides.seed ?? data.seed,
    durationMs,
    clock: overrides.clock ?? data.clock,
    timeScale: data.timeScale,
    target: resolveTarget(data.target, baseDir),
    fleet,
    devices: next,
    arrival: {
      ratePerSec: value(parseRate(data.arrival.rate)),
      ...(data.arrival.rampTo === undefined ? {} : { toRatePerSec: value(parseRate(data.arrival.rampTo)) }),
      ...(data.arrival.over === undefined ? {} : { overMs: ms(data.arrival.over) }),
    },
    behaviour: {
      ...(b.telemetry ? { telemetry: { everyMs: ms(b.telemetry.every), jitter: value(parsePercent(b.telemetry.jitter)), sizeBytes: value(parseSize(b.telemetry.size)), qos: b.telemetry.qos, ...templateOf(b.telemetry.template) } } : {}),
      ...(b.poll ? { poll: { everyMs: ms(b.poll.every), jitter: value(parsePercent(b.poll.jitter)) } } : {}),
      reconnect: { baseMs: ms(b.reconnect.base), capMs: ms(b.reconnect.cap) },
      retryAfterJitter: value(parsePercent(b.retryAfterJitter)),
      keepaliveSec: ms(b.keepalive) / 1000,
      session: b.session,
      fleetOps: resolveFleetOpsBehaviour(b),
      ...(b.offline === undefined
        ? {}
        : {
            offline: {
              availability: value(parsePercent(b.offline.availability)),
              downtime: resolveDowntime(b.offline.downtime),
              ...(b.offline.backup === undefined
                ? {}
                : {
                    backup: {
                      availability: value(parsePercent(b.offline.backup.availability)),
                      downtime: resolveDowntime(b.offline.backup.downtime),
                      switchoverMs: ms(b.offline.backup.switchover),
                    },
                  }),
            },
          }),
    },
    ...(data.provisioning === undefined ? {} : { provisioning: resolveProvisioning(data.provisioning) }),
    backend: resolveBackend(data.backend),
    phases: data.phases
      .map((p, index): ResolvedPhase => {
        if (p.backend) return { atMs: ms(p.at), kind: 'backend', spec: resolveFaultPhase(index, p) };
        if (p.outage) {
          const o = p.outage;
          return { atMs: ms(p.at), kind: 'outage', spec: { scope: o.scope, fraction: value(parsePercent(o.fraction)), durationMs: ms(o.duration) } };
        }
        return resolveFleetOpsPhase(ms(p.at), p)!;
      })
      // Stable sort: phases at the same time keep their order in the file.
      .sort((x, y) => x.atMs - y.atMs),
    ...(data.cost === undefined ? {} : { cost: resolveCost(data.cost) }),
    ...(data.lifetime === undefined ? {} : { lifetime: resolveLifetime(data.lifetime) }),
    thresholds,
    options: {
      mqttClient: data.options.mqttClient,
      mqttPipelining: data.options.mqttPipelining,
      embeddedBroker: data.options.embeddedBroker,
      http: { client: data.options.http.client, connections: data.options.http.connections, poolSize: data.options.http.poolSize },
      maxScheduleLagMs: ms(data.options.maxScheduleLag),
      snapshotEveryMs: data.options.snapshotEvery !== undefined ? ms(data.options.snapshotEvery) : defaultSnapshotEveryMs(overrides.clock ?? data.clock, durationMs),
      linkModel: data.options.linkModel,
      ...(data.options.projectAfter === undefined ? {} : { projectAfterMs: ms(data.options.projectAfter) }),
      ...(overrides.workers === undefined ? {} : { workers: overrides.workers }),
    },
  };
  return deepFreeze(resolved);
}

function resolveTarget(t: ScenarioData['target'], baseDir: string): ResolvedTarget {
  // Validation (checks.ts) already read every secret once: a failure now is a race with the file system.
  const secret = (text: string): string => {
    const r = readSecret(text, baseDir);
    if (!r.ok) throw new FleetsimError('FLEETSIM_E_SECRET_MISSING', r.message, { hint: r.hint });
    return r.value;
  };
  if (t === 'embedded') return { kind: 'embedded', fleetKey: DEFAULT_EMBEDDED_FLEET_KEY };
  if (t.embedded !== undefined) return { kind: 'embedded', fleetKey: t.embedded.fleetKey === undefined ? DEFAULT_EMBEDDED_FLEET_KEY : secret(t.embedded.fleetKey) };
  const fleetKey = t.fleetKey === undefined ? DEFAULT_EMBEDDED_FLEET_KEY : secret(t.fleetKey);
  const tls = t.tls === undefined ? {} : { tls: resolveTls(t.tls, baseDir) };
  if (t.mqtt === 'local-mosquitto') return { kind: 'embedded', fleetKey, broker: { kind: 'local-mosquitto', count: t.brokers ?? 1 }, ...tls };
  if (t.http === 'embedded') return { kind: 'embedded', fleetKey, broker: { kind: 'url', url: t.mqtt! }, ...tls };
  if (t.backend !== undefined) return { kind: 'test-backend', backend: t.backend, preset: resolvePreset(t.preset, baseDir), fleetKey };
  // Validation guarantees http and mqtt for an external target.
  return { kind: 'external', http: t.http!, mqtt: t.mqtt!, preset: resolvePreset(t.preset, baseDir), fleetKey, ...tls };
}

/** Validation (checks.ts) already loaded the protocol file once: a failure now is a race with the file system. */
function resolvePreset(ref: string | undefined, baseDir: string): ResolvedPreset {
  if (ref === undefined) return { kind: 'builtin', name: 'reference' };
  const kind = presetRefKind(ref);
  if (kind === 'builtin') {
    if (!isBuiltInPresetName(ref)) throw new FleetsimError('FLEETSIM_E_SCENARIO_INVALID', `unknown preset "${ref}"`, { hint: 'fleetsim validate lists the built-in presets' });
    return { kind: 'builtin', name: ref };
  }
  const file = path.resolve(baseDir, ref);
  if (kind === 'module') return { kind: 'module', file };
  const loaded = loadProtocolFile(file);
  return { kind: 'protocol', file, protocol: loaded.data, secrets: loaded.secrets };
}

function resolveTls(t: NonNullable<Exclude<ScenarioData['target'], 'embedded'>['tls']>, baseDir: string): ResolvedTls {
  const dc = t.deviceCerts;
  const fleetCa = dc?.fleetCa;
  return {
    ...(t.ca === undefined ? {} : { ca: readTlsFile(path.resolve(baseDir, t.ca)) }),
    ...(t.servername === undefined ? {} : { servername: t.servername }),
    insecure: t.insecure,
    ...(fleetCa
      ? { deviceCerts: { kind: 'fleet-ca' as const, untrusted: value(parsePercent(fleetCa.untrusted)), ...(fleetCa.dir ? { dir: path.resolve(baseDir, fleetCa.dir) } : {}), ...(fleetCa.commonName ? { commonName: fleetCa.commonName } : {}) } }
      : dc?.folder
        ? { deviceCerts: { kind: 'folder' as const, dir: path.resolve(baseDir, dc.folder) } }
        : {}),
  };
}

function readTlsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_TLS_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'give the path of a PEM file, relative to the scenario' });
  }
}

/** Wall clock: a row a second. Virtual clock: about 720 rows per run, on a whole-second grid. */
function defaultSnapshotEveryMs(clock: 'wall' | 'virtual', durationMs: number): number {
  if (clock === 'wall') return 1000;
  return Math.max(1000, Math.round(durationMs / 720 / 1000) * 1000);
}

function resolveDowntime(d: { distribution: ResolvedDowntime['distribution']; median?: string; mean?: string; shape?: number }): ResolvedDowntime {
  return {
    distribution: d.distribution,
    ...(d.median === undefined ? {} : { median: ms(d.median) }),
    ...(d.mean === undefined ? {} : { mean: ms(d.mean) }),
    ...(d.shape === undefined ? {} : { shape: d.shape }),
  };
}

function resolveNetem(n: NonNullable<ScenarioData['fleet'][number]['netem']>): NonNullable<ResolvedFleetGroup['netem']> {
  return {
    ...(n.delay === undefined ? {} : { delayMs: ms(n.delay) }),
    ...(n.jitter === undefined ? {} : { jitterMs: ms(n.jitter) }),
    ...(n.distribution === undefined ? {} : { distribution: n.distribution }),
    ...(n.loss === undefined ? {} : { loss: value(parsePercent(n.loss)) }),
    ...(n.gemodel === undefined ? {} : { lossGe: n.gemodel.map((x) => value(parsePercent(x))) as [number, number, number, number] }),
    ...(n.rate === undefined ? {} : { rateBps: value(parseBitRate(n.rate)) }),
  };
}

function value(p: Parsed<number>): number {
  if (!p.ok) throw new Error(`resolveScenario: ${p.message} passed validation`);
  return p.value;
}

function ms(text: string): number {
  return value(parseDuration(text));
}

export { deepFreeze } from './deep-freeze.js';
