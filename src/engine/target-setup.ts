import path from 'node:path';
import { FleetsimError } from '../errors/fleetsim-error.js';
import { startEmbeddedBackend, type CountCheck, type OperatorCredential } from '../backend/index.js';
import { platformFake } from '../backend/fakes/registry.js';
import type { RunningFake } from '../backend/fakes/platform-fake.js';
import type { PlatformFakeName } from '../wire/platform-fakes.js';
import type { DeviceStatsResponse } from '../wire/reference-protocol.js';
import type { ResolvedPreset } from '../scenario/resolved.js';
import { checkedPresetFactory } from './shard/preset-factory.js';
import { startLocalMosquitto, type LocalMosquitto } from '../drivers/mqtt/local-mosquitto.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import { BROKER_RESERVED_DESCRIPTORS, BROKER_SPARE_CONNECTIONS } from '../scenario/capacity.js';
import { shardRanges } from '../scenario/session-load.js';
import { machineLimits } from './resources.js';
import type { ShardTarget } from './shard/task.js';
import { prepareTls } from './target-tls.js';
import { compileTemplate } from '../payload/template-compile.js';
import type { SeqLocator } from '../wire/telemetry-seq.js';

/** Where the scenario's telemetry carries its sequence number, so the embedded backend can reconcile. */
function telemetrySeqOf(s: ResolvedScenario): SeqLocator | undefined {
  const spec = s.behaviour.telemetry?.template;
  if (spec === undefined) return undefined;
  const compiled = compileTemplate(spec);
  return compiled.ok ? compiled.template.seq : undefined;
}

/** The embedded broker's watch-only login: user `operator`, password from this variable. */
export const OPERATOR_PASSWORD_ENV = 'FLEETSIM_OPERATOR_PASSWORD';
export const OPERATOR_USERNAME = 'operator';

/** The operator credential when the environment sets one (an empty value sets none). */
export function operatorFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorCredential | undefined {
  const password = env[OPERATOR_PASSWORD_ENV];
  return password ? { username: OPERATOR_USERNAME, password } : undefined;
}

/** A local backend that counts what it received per device, so the run reconciles with it. */
export interface CountingBackend {
  /** The broker it counts telemetry on ('' when it counts from other brokers' subscriptions). */
  readonly mqttUrl: string;
  /** Resolves when everything in flight to the backend has been counted, with what of the count could not be confirmed (undefined: counted in-process). */
  settle(): Promise<CountCheck | undefined>;
  stats(): Pick<DeviceStatsResponse, 'devices' | 'totals'>;
}

function presetLabel(p: ResolvedPreset): string {
  return p.kind === 'builtin' ? p.name : p.kind === 'protocol' ? `protocol ${p.protocol.name}` : `module ${path.basename(p.file)}`;
}

/** What a run talks to, started (and later stopped) by the coordinator where it is local. */
export interface PreparedTarget {
  target: ShardTarget;
  /** The embedded HTTP API (and broker, or counting subscriber), when the target is embedded. */
  backend?: CountingBackend;
  label: string;
  /** What the report must say about how the run was made (TLS verification off). */
  warnings: string[];
  /** Local Mosquitto processes fleetsim started (broker restart phases act on them). */
  brokers?: readonly LocalMosquitto[];
  close(): Promise<void>;
}

/** A URL without user:password, for labels that end up in reports. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Starts what a wall-clock scenario's target needs on this machine: the embedded backend, local
 * Mosquitto processes (each with max_connections and its own descriptor budget, on a free loopback
 * port) that devices are spread over, or nothing for an external target. `here` is the slice of
 * the fleet this process runs (all of it unless `--shard i/N`). The virtual clock's
 * target is the backend model (engine/coordinator.ts, which does not load this module for it).
 */
export async function prepareTarget(s: ResolvedScenario, log: (line: string) => void, here: { firstDevice: number; count: number }): Promise<PreparedTarget> {
  const t = s.target;
  // A module preset that does not implement the interface stops the run here, before anything starts.
  if (t.kind !== 'embedded') await checkedPresetFactory(t.preset, t.fleetKey);
  if (t.kind === 'test-backend') return startPlatformFake(s, t.backend, t.preset, t.fleetKey, log);
  const localBroker = t.kind === 'embedded' && t.broker?.kind === 'local-mosquitto';
  const tls = t.tls ? await prepareTls(t.tls, localBroker) : undefined;
  const warnings = tls?.warnings ?? [];
  const shardTls = tls ? { tls: tls.shard } : {};
  if (t.kind === 'external') {
    return {
      target: { httpUrl: t.http, mqttUrl: t.mqtt, fleetKey: t.fleetKey, preset: t.preset, ...shardTls },
      label: `${withoutCredentials(t.http)} + ${withoutCredentials(t.mqtt)}${t.preset.kind === 'builtin' ? '' : ` (${presetLabel(t.preset)})`}`,
      warnings,
      close: async () => {},
    };
  }
  const brokers: LocalMosquitto[] = [];
  try {
    let brokerUrls: string[] | undefined;
    let brokerRanges: Array<{ firstDevice: number; count: number }> | undefined;
    if (t.broker?.kind === 'local-mosquitto') {
      // Each broker serves one contiguous range of the devices, balanced by sessions held at once
      // like the shards are, so that a shard's devices sit on one or two brokers and each broker
      // hears a shard's reports of a scheduler turn in one wake-up (drivers/mqtt/broker-devices.ts).
      brokerRanges = shardRanges(s, here.firstDevice, here.count, t.broker.count);
      while (brokerRanges.length < t.broker.count) brokerRanges.push({ firstDevice: here.firstDevice + here.count, count: 0 });
      // Room for all of its devices at once, but never past the descriptors the broker inherits
      // (sleepy fleets need far fewer: capacity.ts checks the sessions expected at once).
      const limit = machineLimits().descriptorsPerProcess;
      const perBroker = Math.min(Math.max(...brokerRanges.map((r) => r.count)) + BROKER_SPARE_CONNECTIONS, limit === undefined ? Infinity : limit - BROKER_RESERVED_DESCRIPTORS);
      for (let i = 0; i < t.broker.count; i++) brokers.push(await startLocalMosquitto({ maxConnections: perBroker, ...(tls?.mosquitto ?? {}) }));
      brokerUrls = brokers.map((b) => b.url);
      log(`local mosquitto: ${brokers.map((b, i) => `${b.url} (devices ${brokerRanges?.[i].firstDevice}..${(brokerRanges?.[i].firstDevice ?? 0) + (brokerRanges?.[i].count ?? 0) - 1})`).join(' ')}`);
    } else if (t.broker?.kind === 'url') {
      brokerUrls = [t.broker.url];
    }
    const counterTls = tls?.counter ?? (tls ? tls.shard.settings : undefined);
    const operator = brokerUrls === undefined ? operatorFromEnv() : undefined;
    const backend = await startEmbeddedBackend({ fleetKey: t.fleetKey, mqtt: brokerUrls === undefined, broker: s.options.embeddedBroker, countFrom: brokerUrls, countTls: counterTls, countQos: t.broker?.kind === 'local-mosquitto' ? 0 : 1, countSysDrops: t.broker?.kind === 'local-mosquitto', telemetrySeq: telemetrySeqOf(s), operator });
    log(`embedded backend: http ${backend.httpUrl}${backend.mqttUrl ? `  mqtt ${backend.mqttUrl}` : ''}${operator ? `  (operator login: user ${OPERATOR_USERNAME}, password from ${OPERATOR_PASSWORD_ENV})` : ''}`);
    return {
      target: { httpUrl: backend.httpUrl, mqttUrl: brokerUrls ?? backend.mqttUrl, ...(brokerRanges ? { brokerRanges } : {}), fleetKey: t.fleetKey, preset: { kind: 'builtin', name: 'reference' }, ...shardTls },
      backend,
      label: brokerUrls ? `embedded http + ${t.broker?.kind === 'local-mosquitto' ? `${brokers.length} local mosquitto${tls ? ' (TLS)' : ''}` : withoutCredentials(brokerUrls[0])}` : 'embedded',
      warnings,
      brokers,
      close: async () => {
        await backend.close();
        await Promise.all(brokers.map((b) => b.stop()));
      },
    };
  } catch (err) {
    await Promise.all(brokers.map((b) => b.stop()));
    throw err;
  }
}

/**
 * A local fake of a fleet platform's device API (`target.backend`), from the registry of fakes,
 * driven by the scenario's preset. What the scenario says that the platform tells devices goes to
 * the fake: the poll interval (hawkBit answers it as `config.polling.sleep`, its tenant polling
 * time), the first maintenance window of an update phase (on hawkBit it is part of the assignment),
 * and token lifetimes of 40% of the run (Mender's 7 days would never expire in a run), so every
 * run sees devices re-authenticate. Times are scaled by the run's time scale.
 */
async function startPlatformFake(s: ResolvedScenario, name: PlatformFakeName, preset: ResolvedPreset, fleetKey: string, log: (line: string) => void): Promise<PreparedTarget> {
  const fake = platformFake(name);
  if (fake === undefined) throw new FleetsimError('FLEETSIM_E_INTERNAL', `no platform fake is registered as "${name}"`);
  let maintenance: { opensMs: number; lengthMs: number; everyMs: number } | undefined;
  for (const p of s.phases) if (maintenance === undefined && p.kind === 'update') maintenance = p.spec.maintenanceWindow;
  const running = await fake.start({
    fleetKey,
    pollingSec: Math.max(1, Math.round((s.behaviour.poll?.everyMs ?? DEFAULT_POLL_MS) / 1000 / s.timeScale)),
    minPollingSec: 1,
    tokenTtlSec: Math.max(MIN_TOKEN_TTL_SEC, Math.round((s.durationMs * 0.4) / 1000 / s.timeScale)),
    maintenance: maintenance && { opensMs: maintenance.opensMs / s.timeScale, lengthMs: maintenance.lengthMs / s.timeScale, everyMs: maintenance.everyMs / s.timeScale },
  });
  log(`${name} fake:${running.httpUrl ? ` http ${running.httpUrl}` : ''}${running.mqttUrl ? `  mqtt ${running.mqttUrl}` : ''}`);
  const backend: CountingBackend = {
    mqttUrl: running.mqttUrl ?? '',
    settle: async () => {
      await running.settle();
      return undefined; // a fake counts in-process
    },
    stats: () => running.stats(),
  };
  return {
    target: { httpUrl: running.httpUrl ?? '', mqttUrl: running.mqttUrl ?? '', fleetKey, preset, ...fakeTls(running) },
    backend,
    label: name === 'example' ? `example test backend (${presetLabel(preset)})` : `${name} fake`,
    warnings: [],
    close: () => running.close(),
  };
}

/** Poll interval a fake tells devices when the scenario has no poll (hawkBit's default polling time, 00:05:00). */
const DEFAULT_POLL_MS = 300_000;

/** A fake on mutual TLS: devices trust its CA and start with its shared identity (AWS IoT's claim certificate). */
function fakeTls(running: RunningFake): { tls?: ShardTarget['tls'] } {
  const t = running.deviceTls;
  if (t === undefined) return {};
  return { tls: { settings: { ca: t.ca }, ...(t.sharedIdentity === undefined ? {} : { deviceCerts: { kind: 'shared', identity: t.sharedIdentity } }) } };
}

/** Shortest device token the Mender fake issues in scenarios (a token must outlive a few requests). */
const MIN_TOKEN_TTL_SEC = 10;
