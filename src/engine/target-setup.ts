import { startEmbeddedBackend, type EmbeddedBackend } from '../backend/index.js';
import { startLocalMosquitto, type LocalMosquitto } from '../drivers/mqtt/local-mosquitto.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import { BROKER_RESERVED_DESCRIPTORS, brokerMaxConnections } from '../scenario/capacity.js';
import { machineLimits } from './resources.js';
import type { ShardTarget } from './shard/task.js';
import { compileTemplate } from '../payload/template-compile.js';
import type { SeqLocator } from '../wire/telemetry-seq.js';

/** Where the scenario's telemetry carries its sequence number, so the embedded backend can reconcile. */
function telemetrySeqOf(s: ResolvedScenario): SeqLocator | undefined {
  const spec = s.behaviour.telemetry?.template;
  if (spec === undefined) return undefined;
  const compiled = compileTemplate(spec);
  return compiled.ok ? compiled.template.seq : undefined;
}

/** What a run talks to, started (and later stopped) by the coordinator where it is local. */
export interface PreparedTarget {
  target: ShardTarget;
  /** The embedded HTTP API (and broker, or counting subscriber), when the target is embedded. */
  backend?: EmbeddedBackend;
  label: string;
  close(): Promise<void>;
}

/**
 * Starts what the scenario's target needs on this machine: the embedded backend, local Mosquitto
 * processes (each with max_connections and its own descriptor budget, on a free loopback port)
 * that devices are spread over, or nothing for an external target / the virtual clock.
 */
export async function prepareTarget(s: ResolvedScenario, log: (line: string) => void, devicesHere: number): Promise<PreparedTarget> {
  const t = s.target;
  if (s.clock === 'virtual') {
    return { target: { httpUrl: 'model:', mqttUrl: 'model:', fleetKey: t.fleetKey, preset: 'reference' }, label: 'model (virtual clock)', close: async () => {} };
  }
  if (t.kind === 'external') {
    return { target: { httpUrl: t.http, mqttUrl: t.mqtt, fleetKey: t.fleetKey, preset: t.preset }, label: `${t.http} + ${t.mqtt}`, close: async () => {} };
  }
  const brokers: LocalMosquitto[] = [];
  try {
    let brokerUrls: string[] | undefined;
    if (t.broker?.kind === 'local-mosquitto') {
      // Room for all of its devices at once, but never past the descriptors the broker inherits
      // (sleepy fleets need far fewer: capacity.ts checks the sessions expected at once).
      const limit = machineLimits().descriptorsPerProcess;
      const perBroker = Math.min(brokerMaxConnections(devicesHere, t.broker.count), limit === undefined ? Infinity : limit - BROKER_RESERVED_DESCRIPTORS);
      for (let i = 0; i < t.broker.count; i++) brokers.push(await startLocalMosquitto({ maxConnections: perBroker }));
      brokerUrls = brokers.map((b) => b.url);
      log(`local mosquitto: ${brokerUrls.join(' ')}`);
    } else if (t.broker?.kind === 'url') {
      brokerUrls = [t.broker.url];
    }
    const backend = await startEmbeddedBackend({ fleetKey: t.fleetKey, mqtt: brokerUrls === undefined, countFrom: brokerUrls, telemetrySeq: telemetrySeqOf(s) });
    log(`embedded backend: http ${backend.httpUrl}${backend.mqttUrl ? `  mqtt ${backend.mqttUrl}` : ''}`);
    return {
      target: { httpUrl: backend.httpUrl, mqttUrl: brokerUrls ?? backend.mqttUrl, fleetKey: t.fleetKey, preset: 'reference' },
      backend,
      label: brokerUrls ? `embedded http + ${t.broker?.kind === 'local-mosquitto' ? `${brokers.length} local mosquitto` : brokerUrls[0]}` : 'embedded',
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
