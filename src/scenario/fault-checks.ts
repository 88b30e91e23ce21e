import type { DocPath } from './yaml-source.js';

type Add = (path: DocPath, message: string, hint: string, at?: 'key' | 'value') => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  const tls = isRecord(target) && (target.tls !== undefined || [target.http, target.mqtt].some((u) => typeof u === 'string' && /^(https|mqtts):/.test(u)));
  const localMosquitto = isRecord(target) && target.mqtt === 'local-mosquitto';
  phases.forEach((p, i) => {
    if (!isRecord(p)) return;
    const b = p.backend;
    if (!isRecord(b)) return;
    if (b.broker !== undefined && !localMosquitto) add(['phases', i, 'backend', 'broker'], 'a broker restart needs target: { mqtt: local-mosquitto } (fleetsim restarts only brokers it started)', 'write target: { mqtt: local-mosquitto }, or use backend: { mqtt: { disconnect: {} } } through the fault proxy', 'key');
    if ((b.http !== undefined || b.mqtt !== undefined) && tls) add(['phases', i, 'backend'], 'the fault proxy cannot see into TLS: http and mqtt faults need a plain http:// and mqtt:// target', 'run the fault scenario against plain-text endpoints of the backend', 'key');
    const scope = p.scope;
    if (!isRecord(scope)) return;
    if (typeof scope.profile === 'string' && !fleet.profiles.has(scope.profile)) add(['phases', i, 'scope', 'profile'], `no fleet group has profile "${scope.profile}"`, `the fleet's profiles: ${[...fleet.profiles].join(', ')}`);
    if (typeof scope.link === 'string' && !fleet.links.has(scope.link)) add(['phases', i, 'scope', 'link'], `no fleet group is on link "${scope.link}"`, `the fleet's links: ${[...fleet.links].join(', ') || 'each profile default'}`);
    if (scope.cells !== undefined && !fleet.cells) add(['phases', i, 'scope', 'cells'], 'no fleet group has cells', 'give a group cells: N (fleet[].cells), or scope by devices instead', 'key');
  });
}
