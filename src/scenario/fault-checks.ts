import type { DocPath } from './yaml-source.js';

type Add = (path: DocPath, message: string, hint: string, at?: 'key' | 'value') => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the virtual clock's backend model does not model of fault phases (the validation message names it). */
export const VIRTUAL_FAULTS_NOT_MODELLED =
  'the modelled backend (virtual clock) does not model injected HTTP statuses, latency, resets, stalls or bodies, MQTT disconnects, CONNACK refusals, dropped PUBACKs, blackholes or broker restarts';

/** The fleet's profile and link names, and whether any group has cells, as validation sees them. */
export interface FleetFacts {
  profiles: Set<string>;
  links: Set<string>;
  cells: boolean;
}

/**
 * Relations of backend fault phases with the rest of the scenario: they need the wall clock, a
 * target the fault proxy can see into (no TLS), a local Mosquitto to restart, and a scope the
 * fleet has. (A phase after the end of the run is checks.ts's, for every kind of phase.)
 */
export function checkFaultPhases(data: Record<string, unknown>, fleet: FleetFacts, clock: { virtual: boolean; said: string }, add: Add): void {
  const phases = data.phases;
  if (!Array.isArray(phases)) return;
  const target = data.target;
  const tls = isRecord(target) && (target.tls !== undefined || [target.http, target.mqtt].some((u) => typeof u === 'string' && /^(https|mqtts):/.test(u)));
  const localMosquitto = isRecord(target) && target.mqtt === 'local-mosquitto';
  phases.forEach((p, i) => {
    if (!isRecord(p)) return;
    const b = p.backend;
    if (!isRecord(b)) return;
    if (clock.virtual) add(['phases', i, 'backend'], `backend fault phases run on the wall clock only (this run: ${clock.said}): ${VIRTUAL_FAULTS_NOT_MODELLED}`, 'run this scenario on the wall clock, or take the backend phases out for a virtual what-if', 'key');
    if (b.broker !== undefined && !localMosquitto) add(['phases', i, 'backend', 'broker'], 'a broker restart needs target: { mqtt: local-mosquitto } (fleetsim restarts only brokers it started)', 'write target: { mqtt: local-mosquitto }, or use backend: { mqtt: { disconnect: {} } } through the fault proxy', 'key');
    if ((b.http !== undefined || b.mqtt !== undefined) && tls) add(['phases', i, 'backend'], 'the fault proxy cannot see into TLS: http and mqtt faults need a plain http:// and mqtt:// target', 'run the fault scenario against plain-text endpoints of the backend', 'key');
    const scope = p.scope;
    if (!isRecord(scope)) return;
    if (typeof scope.profile === 'string' && !fleet.profiles.has(scope.profile)) add(['phases', i, 'scope', 'profile'], `no fleet group has profile "${scope.profile}"`, `the fleet's profiles: ${[...fleet.profiles].join(', ')}`);
    if (typeof scope.link === 'string' && !fleet.links.has(scope.link)) add(['phases', i, 'scope', 'link'], `no fleet group is on link "${scope.link}"`, `the fleet's links: ${[...fleet.links].join(', ') || 'each profile default'}`);
    if (scope.cells !== undefined && !fleet.cells) add(['phases', i, 'scope', 'cells'], 'no fleet group has cells', 'give a group cells: N (fleet[].cells), or scope by devices instead', 'key');
  });
}
