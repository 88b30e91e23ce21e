import type { ResolvedScenario } from './resolved.js';
import { sessionsIn, shardRanges } from './session-load.js';
import { feasibilityProblems } from './feasibility.js';
import { isLoopbackHost, loopbackSourceAddresses, portBudget, PORTS_PER_SOURCE_ADDRESS } from './port-budget.js';
import { memoryEstimate, type SocketCounts } from './memory-costs.js';

/**
 * How a run is laid out on this machine, and whether it fits: how many processes its shards run
 * in, which source addresses its MQTT sockets bind, and the descriptors, ports and memory each
 * part needs against what the machine allows. Pure arithmetic (no I/O): the caller passes the
 * machine's limits. `fleetsim plan` prints it; `fleetsim run` refuses a run with problems before
 * anything starts, instead of failing half-way (engine/resources.ts).
 *
 * Why processes: a process may hold only so many descriptors (20,000 here, hard), and worker
 * threads share their process's limit, so past it the shards must live in several processes.
 * Why source addresses and how many sockets each may take: scenario/port-budget.ts. What each
 * part costs in memory: scenario/memory-costs.ts.
 */

/** Descriptors kept back in every process for files, pipes, worker threads and listeners. */
export const RESERVED_DESCRIPTORS = 200;
/** Descriptors a Mosquitto process uses besides its client connections (listener, epoll, log). */
export const BROKER_RESERVED_DESCRIPTORS = 32;

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
        fix: `use more brokers: target: { mqtt: local-mosquitto, brokers: ${Math.ceil(l.all.mqtt / (limit - BROKER_RESERVED_DESCRIPTORS - BROKER_SPARE_CONNECTIONS))} }`,
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

/** Connections a local broker allows beyond its share of the sessions (the counting subscriber, a reconnect overlapping its old session). */
export const BROKER_SPARE_CONNECTIONS = 16;

/**
 * Mosquitto's max_connections for each of `brokers` local brokers sharing `sessions` sessions:
 * each serves one contiguous range of devices, balanced by sessions held at once
 * (engine/target-setup.ts), so each holds its share.
 */
export function brokerMaxConnections(sessions: number, brokers: number): number {
  return Math.ceil(sessions / brokers) + BROKER_SPARE_CONNECTIONS;
}
