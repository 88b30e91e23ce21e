import { isIP } from 'node:net';
import type { ResolvedScenario } from './resolved.js';
import { sessionsIn, shardRanges } from './session-load.js';
import { feasibilityProblems } from './feasibility.js';

/**
 * How a run is laid out on this machine, and whether it fits: how many processes its shards run
 * in, which source addresses its MQTT sockets bind, and the descriptors, ports and memory each
 * part needs against what the machine allows. Pure arithmetic (no I/O): the caller passes the
 * machine's limits. `fleetsim plan` prints it; `fleetsim run` refuses a run with problems before
 * anything starts, instead of failing half-way (engine/resources.ts).
 *
 * Why processes: a process may hold only so many descriptors (20,000 here, hard), and worker
 * threads share their process's limit, so past it the shards must live in several processes.
 * Why source addresses, and why these numbers (Linux 6.x, measured here, bench/RESULTS.md):
 * - An unbound connect() picks its port per destination but scans the even half of the
 *   ephemeral range first: past ~14,100 connections to one destination (every even port), each
 *   further connect costs ~0.75 ms of kernel time instead of ~0.03 ms. With 14 local brokers the
 *   simulator's CPU doubled at ~198k connections and the run stalled, four runs out of four.
 * - A socket bound to a source address (Node binds with SO_REUSEADDR) takes its port from that
 *   address for every destination, and bind() first scans one parity of the lower half of the
 *   range: past ~7,000 sockets on one address each bind costs ~1.4 ms of kernel time; past the
 *   whole range, ports are handed out twice and connects collide.
 * So MQTT sockets stay unbound while every destination stays under SAFE_PER_DESTINATION, and past
 * that all of them bind, round-robin, at most SAFE_PER_SOURCE_ADDRESS per address. Both scale
 * with the machine's ip_local_port_range (MachineLimits.ephemeralPorts).
 */

/** Descriptors kept back in every process for files, pipes, worker threads and listeners. */
export const RESERVED_DESCRIPTORS = 200;
/** Descriptors a Mosquitto process uses besides its client connections (listener, epoll, log). */
export const BROKER_RESERVED_DESCRIPTORS = 32;
/** One source address to one destination: the Linux ephemeral port range 32768-60999. */
export const PORTS_PER_SOURCE_ADDRESS = 28_232;
/** Unbound connects per destination we plan for: under the even half of the range (see above). */
export const SAFE_PER_DESTINATION = 12_000;
/** Bound sockets per source address we plan for: under one parity of the range's lower half (see above). */
export const SAFE_PER_SOURCE_ADDRESS = 6_000;

/** The safe counts for a machine whose ephemeral range has `ports` ports (85% of a half, of a quarter). */
export function portBudget(ports = PORTS_PER_SOURCE_ADDRESS): { perDestination: number; perSourceAddress: number } {
  const scale = ports / PORTS_PER_SOURCE_ADDRESS;
  return { perDestination: Math.floor(SAFE_PER_DESTINATION * scale), perSourceAddress: Math.floor(SAFE_PER_SOURCE_ADDRESS * scale) };
}

/**
 * Measured costs, for the memory estimate and the plan's warnings: every tuning constant of the
 * layout lives here, with its source. Memory is proportional set size (PSS), so pages shared by
 * processes (the node binary) count once. Sources: bench/connected.mjs (N devices in shard
 * processes against local brokers or the embedded backend, /proc sampled every 2 s over the hold;
 * bench/RESULTS.md, "Plan against measured runs"), bench/connect.mjs, bench/virtual.mjs.
 */
export const COSTS = {
  /**
   * Simulator memory per connected device, KB (KiB here and below): the session plus the device's
   * table rows and driver state. Lean: (57.4 MiB per shard process at 19,230 devices − 15.1 MiB
   * idle) / 19,230 = 2.25, and (744 MiB of 13 shard processes at 250,000 − 13 × 15.1) / 250,000 =
   * 2.24 (bench/RESULTS.md, "250,000 connected devices", runs after hdr-histogram-js left the shards),
   * sessions on net.Socket then; less the 0.70 of live heap a session gave up on a bare TCP handle
   * (drivers/mqtt/raw-tcp-socket.ts; shard processes of 19,000 sessions, heap used after a full GC
   * 29.4 → 16.6 MiB, medians of 6 each, bench/RESULTS.md, "Sessions without net.Socket") = 1.6.
   */
  deviceKB: { lean: 1.6, mqttjs: 17.5 },
  /**
   * Added per connected lean session that publishes telemetry over MQTT, KB: its write state and
   * the garbage each publish promotes, which the old generation keeps between full GCs (idle
   * sessions let the memory reducer shrink it). The 500,000-session run with QoS 1 once a minute
   * (26 shard processes, bench/RESULTS.md, issue 17 round 4) held 3.84 KiB PSS per device in its
   * shard processes: (3.84 × 500,000 − 26 × 16 MiB) / 500,000 − 2.3 = 0.71; less the 0.44 of
   * live heap the packet-id tables took (19,000 sessions per process, heap after a full GC 40.0 →
   * 32.0 MiB, bench/RESULTS.md, "Memory per device with telemetry") = 0.27; less the 0.21 by which
   * bare TCP handles cut the shard processes' PSS over the hold beyond their live heap (0.91 KiB
   * per device in all, medians of 3 interleaved pairs at 38,000 devices in 2 processes, 0.70 of
   * it live heap, above; net.Socket's per-write garbage) = 0.06. The scale model's shard
   * processes held 89.6 MiB (median) where 2 × 16 + 38,000 × 1.66 KiB predicts 93.6 (×1.045).
   */
  publishingDeviceKB: { lean: 0.06, mqttjs: 0 },
  /**
   * Added per lean session that keeps a net.Socket (TLS, or a broker named by host), KB: the
   * others run on a bare TCP handle (drivers/mqtt/raw-tcp-socket.ts) and deviceKB.lean is
   * measured that way. 0.91: the median saving of the bare handle in shard PSS per device over
   * the hold (bench/RESULTS.md, "Sessions without net.Socket"; sessions publishing QoS 1 once a
   * minute, so an upper bound for idle ones).
   */
  leanNetSocketKB: 0.91,
  /** A shard process before it holds a device (Node with fleetsim loaded: 15.1 measured, idle) and each worker thread a process runs, MB. */
  processMB: 16,
  threadMB: 25,
  /** The coordinator's own process (CLI, engine, metrics) without the backend it hosts, MB. */
  coordinatorMB: 60,
  /**
   * Mosquitto 2.0 per client connection, KB, and per process, MB, in PSS (the brokers share
   * Mosquitto's and libc's pages; the RSS figures were 1.15 and 2 and over-predicted the 500,000
   * run's brokers, 616 MiB against 436 PSS). From two shapes of the same load (QoS 1 once a minute,
   * bench/connected.mjs, bench/RESULTS.md, "Sessions without net.Socket"): 2 brokers with 38,000
   * connections held 31.5 MiB PSS (median of 6), 27 brokers with 37,800 held 58.2 (27 F + 37,800 c
   * = 58.2, 2 F + 38,000 c = 31.5): c = 0.79 KiB, F = 1.08 MiB. For the 500,000 run's 27 brokers
   * that is 415 MiB against the 436 measured (×0.95).
   */
  mosquittoKB: 0.79,
  mosquittoMB: 1.08,
  /**
   * The embedded HTTP API's record of one provisioned device, KB: its columns in the device store
   * (backend/store.ts), 94.8 bytes per device with 500,000 provisioned (V8 heap + array buffers
   * after a full GC, in-process), against 341.5 for the Map of records it replaced, whose 0.35 was
   * calibrated as (144 MiB coordinator at 250,000 − 60) / 250,000: 0.35 − (0.333 − 0.093) = 0.11
   * (bench/RESULTS.md, "Coordinator per telemetry message and per device").
   */
  backendDeviceKB: 0.11,
  /**
   * Added per device whose telemetry the embedded backend counts from local brokers, KB. The
   * counts are columns of the store (in backendDeviceKB) and the lean counter allocates nothing
   * per message, so what is left is its sockets and read buffer and the devices whose counts
   * left their inline window: 20 bytes per device at 38,000 (bench/coordinator-counter.mjs, store
   * with counts 131 vs 111 bytes per device). The mqtt.js counter cost 0.27 more (its garbage in
   * the old generation): the scale model's coordinator measured 0.51 KiB per device less with
   * both changes (bench/RESULTS.md, "Coordinator per telemetry message and per device").
   */
  countedDeviceKB: 0.02,
  /** The embedded backend's broker in the coordinator's process, per connection, KB: fleetsim's lean broker, aedes. */
  embeddedBrokerKB: { lean: 2.5, aedes: 14.5 },
  /** aedes: connections and messages per second it holds (~10k, ~25k msg/s with a subscriber). */
  aedesMaxConnections: 10_000,
  aedesMaxMsgPerSec: 25_000,
  /** Kernel memory per open loopback TCP socket (each local connection has two), KB (~3.6 measured). */
  kernelSocketKB: 4,
  /** Virtual clock: memory per device, KB: its table record and queued events (304 bytes measured with 500,000 idle devices). */
  virtualDeviceKB: 0.5,
} as const;

export interface MachineLimits {
  /** Open descriptors one process may hold (children inherit it); undefined when unknown. */
  descriptorsPerProcess?: number;
  /** Ports in the ephemeral range (ip_local_port_range); default Linux's 28,232. */
  ephemeralPorts?: number;
  /** Memory the machine has free for this run and in all, MB; undefined when unknown. */
  availableMemoryMB?: number;
  totalMemoryMB?: number;
}

export interface LayoutRequest {
  /** Worker threads in all (split among processes, at least one each). */
  workers: number;
  /** `--processes N`; undefined = as many as the descriptors need (1 when they fit). */
  processes?: number;
  /** `--source-addresses`; undefined = automatic on loopback targets, [] = never bind. */
  sourceAddresses?: readonly string[];
  /** Global index of this process's first device (its `--shard` slice); default 0. */
  firstDevice?: number;
}

export interface LayoutProblem {
  message: string;
  fix: string;
}

export interface RunLayout {
  /** Processes that run shards: 1 means the shards are threads of the coordinator's own process. */
  processes: number;
  processesAutomatic: boolean;
  workersPerProcess: number;
  /** Shards in all (processes x workersPerProcess, fewer when there are fewer devices). */
  shards: number;
  /** Source addresses the MQTT sockets bind, round-robin by device; empty: the kernel picks. */
  sourceAddresses: string[];
  sourceAddressesAutomatic: boolean;
  brokers: number;
  descriptors: {
    limit?: number;
    /** The busiest shard process (the coordinator's own process when processes = 1). */
    perShardProcess: number;
    /** The coordinator process (backend sockets; client sockets too when processes = 1). */
    coordinator: number;
    /** Each local Mosquitto: its max_connections plus its own reserve. */
    perBroker?: number;
  };
  ports: { perDestination: number; perSourceAddress?: number };
  memoryMB: { simulator: number; brokers: number; backend: number; kernel: number; total: number; available?: number; machine?: number };
  problems: LayoutProblem[];
  /** What fits but will be slow, and how to avoid it. */
  warnings: string[];
}

interface SocketCounts {
  mqtt: number;
  http: number;
}

/**
 * Client sockets of a list of shard ranges: MQTT sessions held at once (every device with a
 * standing session, a share of the sleepy ones: session-load.ts), HTTP by pool or per device.
 */
function socketsOf(s: ResolvedScenario, ranges: ReadonlyArray<{ firstDevice: number; count: number }>): SocketCounts {
  if (s.clock !== 'wall') return { mqtt: 0, http: 0 };
  const perDevice = s.options.http.connections === 'per-device';
  let mqtt = 0;
  let http = 0;
  for (const r of ranges) {
    mqtt += sessionsIn(s, r.firstDevice, r.count);
    http += perDevice ? r.count : Math.min(r.count, s.options.http.poolSize);
  }
  return { mqtt, http };
}

function isLoopbackHost(url: string): boolean {
  const host = urlHost(url);
  return host === 'localhost' || host === '::1' || (host !== undefined && /^127\./.test(host));
}

/** The host of a URL, IPv6 literals without brackets; undefined for no URL. */
function urlHost(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** 127.0.0.1 .. 127.0.0.n: all of 127.0.0.0/8 is loopback on Linux. */
export function loopbackSourceAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${(i + 1) >> 8}.${(i + 1) & 255}`);
}

/**
 * Lays the run out: `devices` is what this process runs (its `--shard` slice). Problems say what
 * does not fit and how to fix it; the layout is still filled in so that `plan` can show it.
 */
export function planLayout(s: ResolvedScenario, devices: number, req: LayoutRequest, machine: MachineLimits = {}): RunLayout {
  const problems: LayoutProblem[] = [];
  const warnings: string[] = [];
  const wall = s.clock === 'wall';
  const t = s.target;
  const brokers = wall && t.kind === 'embedded' && t.broker?.kind === 'local-mosquitto' ? t.broker.count : 0;
  /** The embedded backend's own broker (lean or aedes) runs in the coordinator's process and holds the server side of every session. */
  const inProcessBroker = wall && t.kind === 'embedded' && t.broker === undefined ? s.options.embeddedBroker : undefined;
  const limit = machine.descriptorsPerProcess;

  const layoutFor = (processes: number) => {
    const perProcess = Math.max(1, Math.floor(req.workers / processes));
    const ranges = shardRanges(s, req.firstDevice ?? 0, devices, processes * perProcess);
    const all = socketsOf(s, ranges);
    // Process p runs shards [p * perProcess, (p + 1) * perProcess).
    let busiest = 0;
    for (let p = 0; p * perProcess < ranges.length; p++) {
      const mine = socketsOf(s, ranges.slice(p * perProcess, (p + 1) * perProcess));
      busiest = Math.max(busiest, mine.mqtt + mine.http + RESERVED_DESCRIPTORS);
    }
    // The coordinator holds the backend's server side: every socket with its own broker, the HTTP
    // ones (and one counting subscriber per broker) with local Mosquitto, none for an external target.
    const backend = !wall || t.kind === 'external' ? 0 : inProcessBroker ? all.mqtt + all.http : all.http + brokers;
    const coordinator = processes === 1 ? busiest + backend : backend + RESERVED_DESCRIPTORS + processes;
    return { perProcess, shards: ranges.length, all, busiest, coordinator };
  };

  let processes = req.processes ?? 1;
  let l = layoutFor(processes);
  if (req.processes === undefined && limit !== undefined && wall) {
    // Fewest processes whose shard processes and coordinator all fit the limit.
    while (processes < Math.max(1, devices) && (l.busiest > limit || l.coordinator > limit)) {
      if (processes > 1 && l.busiest <= limit) break; // more processes cannot shrink the coordinator
      l = layoutFor(++processes);
    }
  }
  if (limit !== undefined && l.busiest > limit) {
    problems.push({
      message: `each shard process needs ~${l.busiest} descriptors (~${Math.ceil(l.all.mqtt / processes)} MQTT + HTTP sockets + ${RESERVED_DESCRIPTORS} reserved) but one process may open ${limit}`,
      fix: `run more processes: --processes ${Math.ceil((l.all.mqtt + l.all.http) / Math.max(1, limit - RESERVED_DESCRIPTORS - 100))} (or leave --processes out to choose automatically), or raise \`ulimit -n\` up to the hard limit`,
    });
  }
  if (limit !== undefined && l.coordinator > limit) {
    problems.push({
      message: `the coordinator needs ~${l.coordinator} descriptors but this process may open ${limit}${inProcessBroker ? `: the embedded broker (${inProcessBroker}) holds the server side of every MQTT connection` : ''}`,
      fix: inProcessBroker
        ? 'use local Mosquitto brokers (target: { mqtt: local-mosquitto, brokers: N }) or an external broker, so the coordinator holds only HTTP sockets'
        : 'use pooled HTTP connections (options.http.connections: pooled) or run the backend in its own process (`fleetsim backend`) and target its URLs',
    });
  }

  // Ports: destinations are the brokers (one each), the embedded or the external broker (one).
  const destinations = Math.max(1, brokers);
  const perDestination = Math.ceil(l.all.mqtt / destinations);
  const mqttUrl = t.kind === 'external' ? t.mqtt : 'mqtt://127.0.0.1';
  const budget = portBudget(machine.ephemeralPorts);
  const range = machine.ephemeralPorts ?? PORTS_PER_SOURCE_ADDRESS;
  let sourceAddresses = req.sourceAddresses ? [...req.sourceAddresses] : [];
  const automatic = req.sourceAddresses === undefined;
  const addressesNeeded = Math.ceil(l.all.mqtt / budget.perSourceAddress);
  if (automatic && wall && perDestination > budget.perDestination && isLoopbackHost(mqttUrl)) {
    sourceAddresses = loopbackSourceAddresses(addressesNeeded);
  }
  const perSourceAddress = sourceAddresses.length > 0 ? Math.ceil(l.all.mqtt / sourceAddresses.length) : undefined;
  if (wall && sourceAddresses.length === 0 && perDestination > budget.perDestination) {
    const spread = isLoopbackHost(mqttUrl)
      ? `spread them over source addresses (--source-addresses 127.0.0.1-127.0.0.${addressesNeeded}, the default on loopback)${brokers > 0 ? ` or use more brokers (brokers: ${Math.ceil(devices / budget.perDestination)})` : ''}`
      : 'give the machine more addresses and list them with --source-addresses, or spread devices over several brokers';
    // Past the even half of the range connects get slow; past the whole range they fail.
    if (perDestination > range - 3_000) {
      problems.push({ message: `${perDestination} MQTT sockets to one broker address exceed the ~${range} ports one source address gives per destination`, fix: spread });
    } else {
      warnings.push(`${perDestination} MQTT sockets to one broker address: past ~${Math.round(range / 2)} every connect scans the used half of the port range in the kernel (~0.75 ms each, measured); ${spread}`);
    }
  }
  if (perSourceAddress !== undefined && perSourceAddress > budget.perSourceAddress) {
    const fix = `list at least ${addressesNeeded} source addresses (e.g. --source-addresses 127.0.0.1-127.0.0.${addressesNeeded} on loopback)`;
    // Past a quarter of the range binds get slow; past a half, ports are handed out twice and connects collide.
    if (perSourceAddress > 2 * budget.perSourceAddress) {
      problems.push({ message: `${perSourceAddress} MQTT sockets per source address: past ~${Math.round(range / 2)} bound sockets an address hands out ports twice and connects collide`, fix });
    } else {
      warnings.push(`${perSourceAddress} MQTT sockets per source address: past ~${Math.round(range / 4)} every bind scans the used part of the port range in the kernel (~1.4 ms each, measured); ${fix}`);
    }
  }
  const httpPerDestination = l.all.http;
  if (wall && httpPerDestination > PORTS_PER_SOURCE_ADDRESS - 3_000) {
    problems.push({
      message: `${httpPerDestination} HTTP connections to the API exceed the ~${PORTS_PER_SOURCE_ADDRESS} ports one source address gives per destination`,
      fix: 'use pooled HTTP connections (options.http.connections: pooled, the default)',
    });
  }

  let perBroker: number | undefined;
  if (brokers > 0) {
    const maxConnections = brokerMaxConnections(l.all.mqtt, brokers);
    perBroker = maxConnections + BROKER_RESERVED_DESCRIPTORS;
    if (limit !== undefined && perBroker > limit) {
      problems.push({
        message: `each of the ${brokers} local Mosquitto brokers would hold ${maxConnections} connections, but it inherits this process's limit of ${limit} descriptors`,
        fix: `use more brokers: target: { mqtt: local-mosquitto, brokers: ${Math.ceil(l.all.mqtt / (limit - BROKER_RESERVED_DESCRIPTORS - 16))} }`,
      });
    }
  }

  const memory = memoryEstimate(s, l.all, processes, l.perProcess * processes, brokers, inProcessBroker, devices);
  const available = machine.availableMemoryMB;
  if (available !== undefined && memory.total > available) {
    problems.push({
      message: `this run needs about ${memory.total} MB (simulator ${memory.simulator}, brokers ${memory.brokers}, backend ${memory.backend}, kernel sockets ${memory.kernel}) but ${available} MB are available`,
      fix: 'run fewer devices here and the rest elsewhere (--shard i/N on several machines), or free memory',
    });
  }

  // Values in range can still multiply into a run that never ends (feasibility.ts).
  problems.push(...feasibilityProblems(s, devices, l.shards));

  return {
    processes,
    processesAutomatic: req.processes === undefined,
    workersPerProcess: l.perProcess,
    shards: l.shards,
    sourceAddresses,
    sourceAddressesAutomatic: automatic && sourceAddresses.length > 0,
    brokers,
    descriptors: { ...(limit === undefined ? {} : { limit }), perShardProcess: l.busiest, coordinator: l.coordinator, ...(perBroker === undefined ? {} : { perBroker }) },
    ports: { perDestination, ...(perSourceAddress === undefined ? {} : { perSourceAddress }) },
    memoryMB: { ...memory, ...(available === undefined ? {} : { available }), ...(machine.totalMemoryMB === undefined ? {} : { machine: machine.totalMemoryMB }) },
    problems,
    warnings,
  };
}

/** Mosquitto's max_connections for each of `brokers` local brokers sharing `sessions` sessions (device g uses broker g mod N). */
export function brokerMaxConnections(sessions: number, brokers: number): number {
  return Math.ceil(sessions / brokers) + 16;
}

/** Simulator memory per MQTT session held, KB: the session, and what publishing telemetry over it adds. */
export function mqttSessionKB(s: ResolvedScenario): number {
  const client = s.options.mqttClient;
  const netSocket = client === 'lean' && !rawTcpSessions(s) ? COSTS.leanNetSocketKB : 0;
  return COSTS.deviceKB[client] + netSocket + (s.behaviour.telemetry !== undefined ? COSTS.publishingDeviceKB[client] : 0);
}

/**
 * True when the lean transport's sessions run on bare TCP handles (drivers/mqtt/raw-tcp-socket.ts):
 * plain MQTT to an IP literal. TLS and broker host names keep a net.Socket per session.
 */
export function rawTcpSessions(s: ResolvedScenario): boolean {
  const t = s.target;
  if (t.kind === 'external') return plainMqttToIp(t.mqtt);
  if (t.kind !== 'embedded') return true; // the test backends listen on 127.0.0.1
  if (t.broker?.kind === 'url') return plainMqttToIp(t.broker.url);
  return t.tls === undefined; // local brokers and the embedded broker listen on 127.0.0.1
}

function plainMqttToIp(url: string): boolean {
  return url.startsWith('mqtt://') && isIP(urlHost(url) ?? '') !== 0;
}

function memoryEstimate(s: ResolvedScenario, all: SocketCounts, processes: number, threads: number, brokers: number, inProcessBroker: 'lean' | 'aedes' | undefined, devices: number) {
  const c = COSTS;
  // A shard process that runs one shard runs it on its main thread (no worker thread).
  const workerThreads = processes > 1 && threads === processes ? 0 : threads;
  const mqttTelemetry = s.behaviour.telemetry !== undefined && all.mqtt > 0;
  const devicesKB = s.clock === 'virtual' ? devices * c.virtualDeviceKB : all.mqtt * mqttSessionKB(s);
  // The coordinator's process, and each shard process besides it.
  const processesMB = c.coordinatorMB + (processes > 1 ? processes * c.processMB : 0);
  const simulatorKB = devicesKB + processesMB * 1024 + workerThreads * c.threadMB * 1024;
  const brokersKB = brokers > 0 ? all.mqtt * c.mosquittoKB + brokers * c.mosquittoMB * 1024 : 0;
  const embedded = s.clock === 'wall' && s.target.kind === 'embedded';
  // With local brokers the embedded backend subscribes to them and counts every device's telemetry.
  const counted = embedded && s.target.kind === 'embedded' && s.target.broker !== undefined && mqttTelemetry;
  const backendKB = embedded ? devices * (c.backendDeviceKB + (counted ? c.countedDeviceKB : 0)) + (inProcessBroker ? all.mqtt * c.embeddedBrokerKB[inProcessBroker] : 0) : 0;
  // Both ends of each connection are on this machine when the target is local.
  const kernelKB = (all.mqtt + all.http) * c.kernelSocketKB * (embedded ? 2 : 1);
  const mb = (kb: number) => Math.ceil(kb / 1024);
  const parts = { simulator: mb(simulatorKB), brokers: mb(brokersKB), backend: mb(backendKB), kernel: mb(kernelKB) };
  return { ...parts, total: parts.simulator + parts.brokers + parts.backend + parts.kernel };
}
