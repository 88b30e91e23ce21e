import { formatDuration } from '../metrics/format.js';
import type { ResolvedScenario } from './resolved.js';
import { arrivalStride, powerOnTimeMs } from '../models/arrival.js';
import { planLayout, RESERVED_DESCRIPTORS, type MachineLimits, type RunLayout } from './capacity.js';
import { COSTS, mqttSessionKB } from './memory-costs.js';
import { sessionsIn, shardRanges, sleepyIn, sliceOf } from './session-load.js';
import { pingFreeKeepaliveS, pingsPerReport, pingsPerSessionDay } from '../models/data-volume.js';

/**
 * What a run would do, worked out from the scenario alone (no I/O): how devices split into
 * shards, the steady-state rates the backend will see, and the sockets and memory the simulator
 * needs. `fleetsim plan` prints it; the engine splits devices the same way (balanced contiguous
 * ranges, the first `devices % shards` shards one device larger).
 *
 * Rates are per simulated second; under the wall clock the backend sees them multiplied by
 * `timeScale` (simulated seconds per wall second).
 */
export interface RunPlan {
  scenario: string;
  clock: 'wall' | 'virtual';
  durationMs: number;
  timeScale: number;
  /** Devices in the whole scenario. */
  devices: number;
  /** Devices this process runs (all of them unless `shard` slices the index space). */
  localDevices: number;
  slice: { index: number; count: number };
  requestedWorkers: number;
  shards: ShardPlan[];
  rates: PlanRates;
  resources: PlanResources;
  /** Processes, source addresses, and the descriptors, ports and memory each part needs (capacity.ts). */
  layout: RunLayout;
  warnings: string[];
}

export interface ShardPlan {
  shard: number;
  firstDevice: number;
  deviceCount: number;
  /** The part of each fleet group this shard runs, in index order. */
  groups: Array<{ group: number; profile: string; link: string; firstDevice: number; count: number }>;
  /**
   * When this shard's first and last devices power on (ms). Power-on follows the global device
   * index, so with contiguous ranges the shards take turns: each powers its devices on at the full
   * arrival rate during its own window.
   */
  powerOnFromMs: number;
  powerOnToMs: number;
}

export interface PlanRates {
  /** Power-on (and so provisioning) rate at the start and at the end of the ramp. */
  arrivalPerSec: number;
  arrivalEndPerSec: number;
  /** When the last local device powers on (ms from the start), and how many power on before the run ends. */
  allOnAtMs: number;
  devicesOnByEnd: number;
  /** Steady state, once every device is on. */
  telemetryPerSec: number;
  telemetryBytesPerSec: number;
  pollsPerSec: number;
  /**
   * PINGREQs the standing sessions send at steady state (scenario/keepalive-load.ts), and per
   * report: pings that a keepalive within the longest gap between reports adds to the broker's
   * packets; `pingFreeSec`, the shortest keepalive that sends none (with telemetry).
   */
  keepalive: { sec: number; pingsPerSec: number; pingsPerReport: number; pingFreeSec?: number };
  /** Expected totals over the run, given the arrival schedule. */
  telemetryMessages: number;
  polls: number;
}

export interface PlanResources {
  /** MQTT sessions held at once: every standing session plus the expected peak of the sleepy ones. */
  mqttConnections: number;
  /** Devices of sleepy groups (session: per-report), which hold a session only while they report. */
  sleepyDevices: number;
  httpConnections: number;
  clientSockets: number;
  /** Server-side sockets in this process (the embedded backend), 0 for an external target. */
  backendSockets: number;
  /** Client + backend sockets + a reserve for files, pipes and listeners. */
  descriptors: number;
  descriptorLimit?: number;
  /** Rough resident memory of sessions, MB (measured per-connection costs, bench/RESULTS.md). */
  memoryMB: number;
}


export interface PlanOptions {
  /** `--shard i/N`: plan only this slice of the device index space. */
  shard?: { index: number; count: number };
  /** The process's descriptor limit, when the caller knows it (planning itself does no I/O). */
  descriptorLimit?: number;
  /** `--processes N` (undefined: as many as the descriptors need). */
  processes?: number;
  /** `--source-addresses` (undefined: automatic on loopback targets). */
  sourceAddresses?: readonly string[];
  /** Memory the machine has, MB, when the caller knows it. */
  memory?: Pick<MachineLimits, 'availableMemoryMB' | 'totalMemoryMB'>;
}

export function planRun(s: ResolvedScenario, workers: number, opts: PlanOptions = {}): RunPlan {
  const warnings: string[] = [];
  const slice = opts.shard ?? { index: 0, count: 1 };
  const mine = sliceOf(s, slice);
  const layout = planLayout(s, mine.count, { workers, processes: opts.processes, sourceAddresses: opts.sourceAddresses, firstDevice: mine.firstDevice }, { descriptorsPerProcess: opts.descriptorLimit, ...opts.memory });
  const ranges = shardRanges(s, mine.firstDevice, mine.count, layout.shards);
  if (layout.processes === 1 && ranges.length < workers) warnings.push(`${workers} workers requested but only ${mine.count} devices: running ${ranges.length} shard${ranges.length === 1 ? '' : 's'}`);

  const shards: ShardPlan[] = ranges.map((r, shard) => ({
    shard,
    firstDevice: r.firstDevice,
    deviceCount: r.count,
    groups: groupsIn(s, r.firstDevice, r.count),
    ...powerOnWindow(s, r.firstDevice, r.count),
  }));

  const rates = planRates(s, mine.firstDevice, mine.count);
  if (rates.devicesOnByEnd < mine.count) {
    warnings.push(`only ${rates.devicesOnByEnd} of ${mine.count} devices power on before the run ends (${formatDuration(s.durationMs)}); raise arrival.rate or the duration`);
  }
  const resources = planResources(s, ranges, opts.descriptorLimit);
  // What `run` would refuse, with the fix.
  for (const p of layout.problems) warnings.push(`${p.message}; fix: ${p.fix}`);
  warnings.push(...layout.warnings);
  if (s.target.kind === 'embedded' && s.target.broker === undefined && s.clock === 'wall' && s.options.embeddedBroker === 'aedes') {
    if (resources.mqttConnections > COSTS.aedesMaxConnections) warnings.push(`the embedded broker (aedes) holds about ${COSTS.aedesMaxConnections} connections; use the lean broker, Mosquitto or an external target for ${resources.mqttConnections}`);
    if (rates.telemetryPerSec * s.timeScale > COSTS.aedesMaxMsgPerSec) warnings.push(`the embedded broker (aedes) collapses above ~${COSTS.aedesMaxMsgPerSec} msg/s; this run sends ~${Math.round(rates.telemetryPerSec * s.timeScale)} msg/s`);
  }
  for (const p of s.phases) if (p.atMs >= s.durationMs) warnings.push(`phase ${p.kind} at ${formatDuration(p.atMs)} never runs: the run ends at ${formatDuration(s.durationMs)}`);

  return {
    scenario: s.name,
    clock: s.clock,
    durationMs: s.durationMs,
    timeScale: s.timeScale,
    devices: s.devices,
    localDevices: mine.count,
    slice,
    requestedWorkers: workers,
    shards,
    rates,
    resources,
    layout,
    warnings,
  };
}

/** First and last power-on time of a device range. */
function powerOnWindow(s: ResolvedScenario, first: number, count: number): { powerOnFromMs: number; powerOnToMs: number } {
  if (count === 0) return { powerOnFromMs: 0, powerOnToMs: 0 };
  const stride = arrivalStride(s.devices);
  let from = Infinity;
  let to = 0;
  for (let g = first; g < first + count; g++) {
    const at = powerOnTimeMs(g, s.devices, s.arrival, stride);
    if (at < from) from = at;
    if (at > to) to = at;
  }
  return { powerOnFromMs: from, powerOnToMs: to };
}

function groupsIn(s: ResolvedScenario, first: number, count: number): ShardPlan['groups'] {
  const end = first + count;
  const out: ShardPlan['groups'] = [];
  for (const g of s.fleet) {
    const lo = Math.max(first, g.firstDevice);
    const hi = Math.min(end, g.firstDevice + g.count);
    if (hi > lo) out.push({ group: g.index, profile: g.profile, link: g.link, firstDevice: lo, count: hi - lo });
  }
  return out;
}

function planRates(s: ResolvedScenario, first: number, count: number): PlanRates {
  const t = s.behaviour.telemetry;
  const p = s.behaviour.poll;
  let onSeconds = 0;
  let devicesOnByEnd = 0;
  let allOnAtMs = 0;
  // O(devices) with no allocation: 500k devices take a few milliseconds.
  const stride = arrivalStride(s.devices);
  for (let g = first; g < first + count; g++) {
    const at = powerOnTimeMs(g, s.devices, s.arrival, stride);
    if (at > allOnAtMs) allOnAtMs = at;
    if (at < s.durationMs) {
      devicesOnByEnd++;
      onSeconds += (s.durationMs - at) / 1000;
    }
  }
  const telemetryPerSec = t ? count / (t.everyMs / 1000) : 0;
  // Standing sessions ping (a sleepy one holds its session for one report): models/data-volume.ts counts how often.
  const keepaliveS = s.behaviour.keepaliveSec;
  const standing = count - sleepyIn(s, first, count);
  const everyS = t ? t.everyMs / 1000 : undefined;
  return {
    arrivalPerSec: s.arrival.ratePerSec,
    arrivalEndPerSec: s.arrival.toRatePerSec ?? s.arrival.ratePerSec,
    allOnAtMs,
    devicesOnByEnd,
    telemetryPerSec,
    telemetryBytesPerSec: t ? telemetryPerSec * t.sizeBytes : 0,
    pollsPerSec: p ? count / (p.everyMs / 1000) : 0,
    keepalive: {
      sec: s.behaviour.keepaliveSec,
      pingsPerSec: (standing * pingsPerSessionDay(everyS, keepaliveS, t?.jitter)) / 86_400,
      pingsPerReport: t ? pingsPerReport(t.everyMs / 1000, keepaliveS, t.jitter) : 0,
      ...(t ? { pingFreeSec: pingFreeKeepaliveS(t.everyMs / 1000, t.jitter) } : {}),
    },
    telemetryMessages: t ? Math.floor(onSeconds / (t.everyMs / 1000)) : 0,
    polls: p ? Math.floor(onSeconds / (p.everyMs / 1000)) : 0,
  };
}

function planResources(s: ResolvedScenario, ranges: ReadonlyArray<{ firstDevice: number; count: number }>, descriptorLimit?: number): PlanResources {
  const perDeviceHttp = s.options.http.connections === 'per-device';
  // The virtual clock opens no sockets: the backend is a model.
  const real = s.clock === 'wall';
  const devices = ranges.reduce((a, r) => a + r.count, 0);
  // Sessions held at once: every standing session, the expected peak of the sleepy ones.
  const mqttConnections = ranges.reduce((a, r) => a + sessionsIn(s, r.firstDevice, r.count), 0);
  // Each shard has its own pool; a pool never needs more connections than its shard has devices.
  const pooled = ranges.reduce((a, r) => a + Math.min(r.count, s.options.http.poolSize), 0);
  const httpConnections = real ? (perDeviceHttp ? devices : pooled) : 0;
  const clientSockets = mqttConnections + httpConnections;
  // The embedded backend's server side: every socket with its own broker (lean or aedes), the HTTP ones with another broker.
  const backendSockets = real && s.target.kind === 'embedded' ? (s.target.broker === undefined ? clientSockets : httpConnections) : 0;
  const brokerKB = COSTS.embeddedBrokerKB[s.options.embeddedBroker];
  const sessionKB = mqttConnections * mqttSessionKB(s) + (backendSockets > httpConnections ? mqttConnections * brokerKB : 0);
  return {
    mqttConnections,
    sleepyDevices: ranges.reduce((a, r) => a + sleepyIn(s, r.firstDevice, r.count), 0),
    httpConnections,
    clientSockets,
    backendSockets,
    descriptors: clientSockets + backendSockets + RESERVED_DESCRIPTORS,
    ...(descriptorLimit === undefined ? {} : { descriptorLimit }),
    memoryMB: Math.round(sessionKB / 1024),
  };
}

/** Why a fleet that reports pings at all: its keepalive is within the longest gap between reports. */
function pingNote(k: PlanRates['keepalive']): string {
  if (k.pingFreeSec === undefined || k.pingsPerReport === 0) return '';
  const per = Number(k.pingsPerReport.toFixed(2));
  return ` (${per} per report, each a PINGREQ and a PINGRESP: keepalive ${k.sec} s is shorter than the longest gap between reports; ${k.pingFreeSec} s or more sends none)`;
}

function rate(n: number): string {
  return n >= 100 ? `${Math.round(n)}/s` : `${Number(n.toFixed(2))}/s`;
}

/** The plan as `fleetsim plan` prints it. */
export function formatPlan(plan: RunPlan): string {
  const r = plan.rates;
  const res = plan.resources;
  const wall = plan.clock === 'wall' && plan.timeScale !== 1 ? ` (x${plan.timeScale} per wall second)` : '';
  const lines = [
    `scenario ${plan.scenario}: ${plan.devices} devices, ${formatDuration(plan.durationMs)}, ${plan.clock} clock${plan.clock === 'wall' && plan.timeScale !== 1 ? `, timeScale ${plan.timeScale}` : ''}`,
  ];
  if (plan.slice.count > 1) lines.push(`slice ${plan.slice.index}/${plan.slice.count}: ${plan.localDevices} devices`);
  lines.push(`shards: ${plan.shards.length}`);
  for (const sh of plan.shards) {
    const last = sh.firstDevice + sh.deviceCount - 1;
    const groups = sh.groups.map((g) => `${g.count} ${g.profile}/${g.link}`).join(', ');
    lines.push(`  shard ${sh.shard}: devices ${sh.firstDevice}..${last} (${sh.deviceCount}) ${groups}; powering on ${formatDuration(sh.powerOnFromMs)}..${formatDuration(sh.powerOnToMs)}`);
  }
  lines.push(`rates per simulated second${wall}:`);
  const ramp = r.arrivalEndPerSec !== r.arrivalPerSec ? ` ramping to ${rate(r.arrivalEndPerSec)}` : '';
  lines.push(`  power-on / provisioning  ${rate(r.arrivalPerSec)}${ramp}; all on at ${formatDuration(r.allOnAtMs)} (${r.devicesOnByEnd} of ${plan.localDevices} on before the end)`);
  lines.push(`  telemetry                ${rate(r.telemetryPerSec)} (${Math.round(r.telemetryBytesPerSec)} B/s payload); ~${r.telemetryMessages} messages in the run`);
  lines.push(`  polls                    ${rate(r.pollsPerSec)}; ~${r.polls} in the run`);
  if (r.keepalive.pingsPerSec > 0) lines.push(`  keepalive pings          ${rate(r.keepalive.pingsPerSec)}${pingNote(r.keepalive)}`);
  lines.push('resources:');
  if (plan.clock === 'virtual') lines.push('  connections              none: under the virtual clock the backend is a model');
  else {
    const sleepy = res.sleepyDevices > 0 ? ` (${res.sleepyDevices} sleepy devices connect only to report: their expected peak)` : '';
    lines.push(`  connections              ${res.mqttConnections} MQTT at once${sleepy} + ${res.httpConnections} HTTP`);
  }
  const limit = res.descriptorLimit === undefined ? '' : ` (limit ${res.descriptorLimit})`;
  lines.push(`  descriptors              ~${res.descriptors}${limit}: ${res.clientSockets} client + ${res.backendSockets} backend + ${RESERVED_DESCRIPTORS} reserved`);
  lines.push(`  session memory           ~${res.memoryMB} MB`);
  if (plan.clock === 'wall') lines.push(...formatLayout(plan.layout));
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** The layout lines of `fleetsim plan`: where shards run and what each part needs against the machine. */
function formatLayout(l: RunLayout): string[] {
  const limit = l.descriptors.limit === undefined ? '' : ` of ${l.descriptors.limit}`;
  const lines: string[] = [];
  if (l.processes > 1) {
    lines.push(`  processes                ${l.processes} shard processes x ${l.workersPerProcess} worker thread(s)${l.processesAutomatic ? ' (automatic: the descriptors need them)' : ''}`);
    lines.push(`  descriptors per process  ~${l.descriptors.perShardProcess}${limit} per shard process; coordinator ~${l.descriptors.coordinator}${limit}`);
  } else {
    lines.push(`  processes                1 (shards are worker threads of this process)`);
  }
  if (l.brokers > 0) lines.push(`  local brokers            ${l.brokers} Mosquitto, ~${l.descriptors.perBroker}${limit} descriptors each`);
  const src = l.sourceAddresses;
  lines.push(
    src.length === 0
      ? `  source addresses         kernel's choice (~${l.ports.perDestination} MQTT sockets per broker address)`
      : `  source addresses         ${src.length}${l.sourceAddressesAutomatic ? ' (automatic)' : ''}: ${src[0]}..${src[src.length - 1]}, ~${l.ports.perSourceAddress} sockets each`,
  );
  const m = l.memoryMB;
  const avail = m.available === undefined ? '' : ` (available ${m.available} MB of ${m.machine ?? '?'} MB)`;
  lines.push(`  memory                   ~${m.total} MB${avail}: simulator ${m.simulator}, brokers ${m.brokers}, backend ${m.backend}, kernel sockets ${m.kernel}`);
  return lines;
}
