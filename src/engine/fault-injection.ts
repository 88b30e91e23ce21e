import { ActiveFaults } from '../faults/active-faults.js';
import { FleetMap, fleetShapeOf } from '../faults/fleet-map.js';
import { FaultHttpProxy } from '../faults/http-proxy.js';
import { InjectedCounts, type FaultInjectionResults } from '../faults/injected.js';
import { FaultMqttProxy } from '../faults/mqtt-proxy.js';
import { FaultTlsPassthrough, OPAQUE_MQTT_FAULTS } from '../faults/tls-passthrough.js';
import net from 'node:net';
import { faultLabel, type FaultPhase } from '../faults/spec.js';
import { FleetsimError } from '../errors/fleetsim-error.js';
import type { LocalMosquitto } from '../drivers/mqtt/local-mosquitto.js';
import { faultPhasesOf, type ResolvedScenario } from '../scenario/resolved.js';
import type { ShardTarget } from './shard/task.js';
import { epochNow } from './clock/epoch-clock.js';

export { faultPhasesOf } from '../scenario/resolved.js';

/**
 * The proxy reads HTTP routes and MQTT packets, which TLS hides: HTTP faults need http://; in
 * front of mqtts:// only what acts on whole connections (disconnect, blackhole) of a share of them,
 * unscoped (faults/tls-passthrough.ts). Validation says so first, located; this guards the run.
 */
function refuseTls(phases: readonly FaultPhase[], target: ShardTarget): void {
  const mqttUrls = Array.isArray(target.mqttUrl) ? target.mqttUrl : [target.mqttUrl];
  for (const p of phases) {
    const f = p.fault;
    const url = f.target === 'http' ? [target.httpUrl] : f.target === 'mqtt' ? mqttUrls : [];
    const tls = url.find((u) => /^(https|mqtts|wss):/.test(u));
    if (tls === undefined) continue;
    const scoped = Object.keys(p.scope).length > 0;
    if (f.target === 'mqtt' && tls.startsWith('mqtts:') && OPAQUE_MQTT_FAULTS.includes(f.action.kind) && !scoped) continue;
    const why = f.target === 'http' ? 'it reads HTTP routes and answers, which TLS hides' : scoped ? 'a scope needs the client id, which TLS hides (through TLS a phase picks a share of connections)' : 'CONNACK refusals and dropped PUBACKs need MQTT packets, which TLS hides (through TLS: disconnect and blackhole)';
    throw new FleetsimError('FLEETSIM_E_FAULT_UNSUPPORTED', `phases[${p.index}].backend.${f.target}: the fault proxy cannot inject "${faultLabel(f)}" in front of ${new URL(tls).protocol}//: ${why}`, {
      hint: 'run the fault scenario against plain-text endpoints of the backend (http://, mqtt://); broker: restart needs no proxy',
    });
  }
}

/**
 * Devices that reach an mqtts:// broker through the proxy on 127.0.0.1 still check its certificate
 * against the broker's own name: sent as SNI and verified, unless the scenario already names one.
 */
function tlsThroughProxy(target: ShardTarget, mqttProxied: boolean): Pick<ShardTarget, 'tls'> {
  const first = Array.isArray(target.mqttUrl) ? target.mqttUrl[0] : target.mqttUrl;
  const keep = target.tls ? { tls: target.tls } : {};
  if (!mqttProxied || !first.startsWith('mqtts:') || target.tls?.settings.servername !== undefined) return keep;
  const host = new URL(first).hostname;
  if (net.isIP(host) !== 0) return keep;
  return { tls: { ...(target.tls ?? {}), settings: { ...(target.tls?.settings ?? {}), servername: host } } };
}

/**
 * Fault phases on the wall clock: the fault proxy (an HTTP reverse proxy and an MQTT-aware TCP
 * proxy per broker, in this process, on loopback) between the devices and the target, started
 * only for the kinds of fault the scenario has, and timers that start and end each phase at its
 * scenario time (scaled by timeScale). Local Mosquitto brokers are killed and restarted by
 * broker phases. Everything it started is stopped by `close`, on every path out of the run.
 */
export class FaultInjection {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<void>>();
  private readonly errors: string[] = [];
  private closed = false;

  private constructor(
    private readonly s: ResolvedScenario,
    private readonly phases: FaultPhase[],
    private readonly active: ActiveFaults,
    private readonly http: FaultHttpProxy | undefined,
    private readonly mqtt: Array<FaultMqttProxy | FaultTlsPassthrough>,
    private readonly brokers: readonly LocalMosquitto[],
    private readonly log: (line: string) => void,
  ) {}

  /** Starts the proxies the phases need and returns the target the devices must use instead; undefined without fault phases. */
  static async start(s: ResolvedScenario, target: ShardTarget, brokers: readonly LocalMosquitto[], log: (line: string) => void): Promise<{ injection: FaultInjection; target: ShardTarget } | undefined> {
    const phases = faultPhasesOf(s);
    if (phases.length === 0) return undefined;
    refuseTls(phases, target);
    const map = new FleetMap(fleetShapeOf(s));
    const active = new ActiveFaults(map, new InjectedCounts(), s.seed);
    let http: FaultHttpProxy | undefined;
    const mqtt: Array<FaultMqttProxy | FaultTlsPassthrough> = [];
    try {
      if (phases.some((p) => p.fault.target === 'http')) http = await new FaultHttpProxy(target.httpUrl, active).start();
      let mqttUrl = target.mqttUrl;
      if (phases.some((p) => p.fault.target === 'mqtt')) {
        const urls = Array.isArray(target.mqttUrl) ? target.mqttUrl : [target.mqttUrl];
        for (const u of urls) {
          const url = new URL(u);
          // TLS: the bytes pass through untouched (TCP-level faults only); plain MQTT: packet by packet.
          const upstream = { host: url.hostname, port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)) };
          mqtt.push(await (url.protocol === 'mqtts:' ? new FaultTlsPassthrough(upstream, active) : new FaultMqttProxy(upstream, active)).start());
        }
        mqttUrl = Array.isArray(target.mqttUrl) ? mqtt.map((p) => p.url) : mqtt[0].url;
      }
      const injection = new FaultInjection(s, phases, active, http, mqtt, brokers, log);
      if (http || mqtt.length > 0) log(`fault proxy:${http ? ` http ${http.url} → ${target.httpUrl}` : ''}${mqtt.length > 0 ? ` mqtt ${mqtt.map((p) => p.url).join(' ')}` : ''}`);
      return { injection, target: { ...target, httpUrl: http?.url ?? target.httpUrl, mqttUrl, ...tlsThroughProxy(target, mqtt.length > 0) } };
    } catch (err) {
      await http?.close();
      await Promise.all(mqtt.map((p) => p.close()));
      throw err;
    }
  }

  /** Plans every phase from the run's start instant (epoch ms, the shards' t = 0). */
  begin(startAtMs: number): void {
    const wall = (scenarioMs: number) => Math.max(0, startAtMs + scenarioMs / this.s.timeScale - epochNow());
    for (const p of this.phases) {
      this.after(wall(p.atMs), () => this.startPhase(p));
      if (p.fault.target !== 'broker') this.after(wall(p.atMs + p.forMs), () => this.active.end(p));
    }
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  private startPhase(p: FaultPhase): void {
    if (p.fault.target !== 'broker') {
      this.active.start(p);
      return;
    }
    const downMs = p.forMs / this.s.timeScale;
    for (const b of this.brokers) {
      this.active.counts.add(p.index, 'broker_restarted', 'broker');
      const done = b
        .restart(downMs)
        .then(() => this.log(`fault: broker ${b.url} restarted (down ${Math.round(downMs)} ms)`))
        .catch((err: Error) => {
          this.errors.push(`broker restart (phase ${p.index}): ${err.message}`);
        })
        .finally(() => this.pending.delete(done));
      this.pending.add(done);
    }
  }

  /** Stops the timers and proxies, waits for restarts under way; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.pending]);
    await this.http?.close();
    await Promise.all(this.mqtt.map((p) => p.close()));
  }

  results(): FaultInjectionResults {
    return { phases: this.phases, injected: this.active.counts.list(), errors: [...this.errors] };
  }
}
