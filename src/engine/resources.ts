import { readFileSync } from 'node:fs';
import os from 'node:os';
import { FleetsimError } from '../errors/fleetsim-error.js';
import { planLayout, type MachineLimits, type RunLayout } from '../scenario/capacity.js';
import type { ResolvedScenario } from '../scenario/resolved.js';

/** The soft limit on open descriptors of this process, read from /proc (Linux); undefined elsewhere. */
export function descriptorLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return undefined;
  }
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Worker threads when `--workers` is not given: one per core, except when the embedded broker
 * (lean or aedes) runs on this process's main thread on the wall clock. Then the backend needs a core of
 * its own, or it and the shards slow each other down: provisioning end to end on 2 cores at
 * 4,000/s offered went from a median of 1,667 devices/s with 2 shard threads to 3,810/s with 1
 * (bench/RESULTS.md, "Fleet operations").
 */
export function defaultWorkers(s: ResolvedScenario, cores = availableCores()): number {
  const brokerHere = s.clock === 'wall' && s.target.kind === 'embedded' && s.target.broker === undefined;
  return brokerHere ? Math.max(1, cores - 1) : cores;
}

/** What this machine allows: descriptors per process (children inherit it) and memory, MB. */
export function machineLimits(): MachineLimits {
  const mb = (bytes: number) => Math.floor(bytes / 2 ** 20);
  return { descriptorsPerProcess: descriptorLimit(), ephemeralPorts: ephemeralPorts(), availableMemoryMB: mb(os.freemem()), totalMemoryMB: mb(os.totalmem()) };
}

/** Ports in the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, Linux); undefined elsewhere. */
export function ephemeralPorts(): number | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return high >= low ? high - low + 1 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pre-flight of `fleetsim run`: lays the run out on this machine (shard processes, source
 * addresses) and refuses it, before anything starts, when its descriptors, ports or memory do not
 * fit, saying what to change. `devices` is what this process runs (its --shard slice).
 */
export function checkResources(
  s: ResolvedScenario,
  devices: number,
  req: { workers: number; processes?: number; sourceAddresses?: readonly string[]; firstDevice?: number },
  log: (line: string) => void = () => {},
  machine: MachineLimits = machineLimits(),
): RunLayout {
  const layout = planLayout(s, devices, { workers: req.workers, processes: req.processes, sourceAddresses: req.sourceAddresses, firstDevice: req.firstDevice }, machine);
  const refused = refusalOf(layout);
  if (refused) throw refused;
  for (const w of layout.warnings) log(`warning: ${w}`);
  if (layout.processes > 1) {
    const why = layout.processesAutomatic ? ` (descriptor limit ${layout.descriptors.limit} per process)` : '';
    log(`shard processes: ${layout.processes} x ${layout.workersPerProcess} worker thread(s)${why}`);
  }
  if (layout.sourceAddressesAutomatic) log(`MQTT source addresses: ${layout.sourceAddresses[0]}..${layout.sourceAddresses[layout.sourceAddresses.length - 1]} (${layout.sourceAddresses.length}, ~${layout.ports.perSourceAddress} sockets each)`);
  return layout;
}

/** The error `run` refuses a layout with (and `plan` exits with, after showing the budget), or undefined when it fits. */
export function refusalOf(layout: RunLayout): FleetsimError | undefined {
  if (layout.problems.length === 0) return undefined;
  return new FleetsimError('FLEETSIM_E_RESOURCE_LIMIT', `this run does not fit this machine: ${layout.problems.map((p) => p.message).join('; ')}`, {
    hint: layout.problems.map((p) => p.fix).join('; ') + ' (`fleetsim plan` shows the whole budget)',
  });
}
