import type { DocPath } from './yaml-source.js';

type Add = (path: DocPath, message: string, hint: string, at?: 'key' | 'value') => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * In front of an mqtts:// broker the proxy passes the encrypted bytes through
 * (faults/tls-passthrough.ts): it can close or stall whole connections of a share of them, but
 * cannot read a packet (no CONNACK refusal, no PUBACK to drop) or a client id (no scope).
 */
function checkMqttThroughTls(mqtt: Record<string, unknown>, scope: unknown, i: number, add: Add): void {
  for (const kind of ['refuse', 'dropPubacks']) {
    if (mqtt[kind] !== undefined) add(['phases', i, 'backend', 'mqtt', kind], `through TLS the fault proxy cannot read MQTT packets, so it cannot inject ${kind === 'refuse' ? 'CONNACK refusals' : 'dropped PUBACKs'}: only disconnect and blackhole, which act on whole connections`, 'use disconnect or blackhole, or run against a plain mqtt:// broker', 'key');
  }
  if (isRecord(scope) && Object.keys(scope).length > 0) add(['phases', i, 'scope'], 'through TLS the fault proxy cannot tell devices apart (the client id is encrypted): an mqtt fault picks a share of connections, never a scope', 'drop the scope and give the fault a share, e.g. disconnect: { share: 30% }; or run against a plain mqtt:// broker', 'key');
}

/** The fleet's profile and link names, and whether any group has cells, as validation sees them. */
export interface FleetFacts {
  profiles: Set<string>;
  links: Set<string>;
  cells: boolean;
}

/**
 * Relations of backend fault phases with the rest of the scenario: a target the fault proxy can
 * see into (no TLS), a local Mosquitto to restart, and a scope the fleet has. The same on both
 * clocks (the virtual one plays the phases against its backend model, drivers/model/fault-model.ts),
 * so a scenario that runs on one runs on the other. (A phase after the end of the run is
 * checks.ts's, for every kind of phase.)
 */
export function checkFaultPhases(data: Record<string, unknown>, fleet: FleetFacts, add: Add): void {
  const phases = data.phases;
  if (!Array.isArray(phases)) return;
  const target = data.target;
  // The embedded target's `tls:` secures both its API and its brokers; an external one says per URL.
  const allTls = isRecord(target) && target.tls !== undefined;
  const httpTls = allTls || (isRecord(target) && typeof target.http === 'string' && target.http.startsWith('https:'));
  const mqttTls = allTls || (isRecord(target) && typeof target.mqtt === 'string' && target.mqtt.startsWith('mqtts:'));
  const localMosquitto = isRecord(target) && target.mqtt === 'local-mosquitto';
  phases.forEach((p, i) => {
    if (!isRecord(p)) return;
    const b = p.backend;
    if (!isRecord(b)) return;
    if (b.broker !== undefined && !localMosquitto) add(['phases', i, 'backend', 'broker'], 'a broker restart needs target: { mqtt: local-mosquitto } (fleetsim restarts only brokers it started)', 'write target: { mqtt: local-mosquitto }, or use backend: { mqtt: { disconnect: {} } } through the fault proxy', 'key');
    if (b.http !== undefined && httpTls) add(['phases', i, 'backend', 'http'], 'the fault proxy cannot see into TLS: http faults act on routes and answers, and need a plain http:// API', 'run the fault scenario against a plain-text endpoint of the API', 'key');
    if (isRecord(b.mqtt) && mqttTls) checkMqttThroughTls(b.mqtt, p.scope, i, add);
    const scope = p.scope;
    if (!isRecord(scope)) return;
    if (typeof scope.profile === 'string' && !fleet.profiles.has(scope.profile)) add(['phases', i, 'scope', 'profile'], `no fleet group has profile "${scope.profile}"`, `the fleet's profiles: ${[...fleet.profiles].join(', ')}`);
    if (typeof scope.link === 'string' && !fleet.links.has(scope.link)) add(['phases', i, 'scope', 'link'], `no fleet group is on link "${scope.link}"`, `the fleet's links: ${[...fleet.links].join(', ') || 'each profile default'}`);
    if (scope.cells !== undefined && !fleet.cells) add(['phases', i, 'scope', 'cells'], 'no fleet group has cells', 'give a group cells: N (fleet[].cells), or scope by devices instead', 'key');
  });
}
