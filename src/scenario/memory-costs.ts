import { isIP } from 'node:net';
import type { ResolvedScenario } from './resolved.js';
import { urlHost } from './port-budget.js';

/**
 * What each part of a run costs in memory, measured, and the run's memory estimate from it
 * (scenario/capacity.ts checks it against the machine; `fleetsim plan` prints it).
 */

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
  /**
   * The embedded backend's broker in the coordinator's process, per connection, KB: fleetsim's
   * lean broker, aedes. Lean: PSS growth of the broker's process per logged-in session, 0.62-0.64
   * KiB in 3 runs of 10,000 sessions on libuv TCP handles (3.06-3.30 with a net.Socket each;
   * bench/embedded-broker-memory.mjs, bench/RESULTS.md "The embedded broker without net.Socket").
   */
  embeddedBrokerKB: { lean: 0.65, aedes: 14.5 },
  /** aedes: connections and messages per second it holds (~10k, ~25k msg/s with a subscriber). */
  aedesMaxConnections: 10_000,
  aedesMaxMsgPerSec: 25_000,
  /**
   * Kernel memory per open loopback TCP socket end (each local connection has two), KB: the
   * kernel's slab growth over a run divided by the socket ends it held. The 500,000-session runs
   * (1,000,000 ends, QoS 1 telemetry once a minute, 27 local brokers) grew the slab by 4.77-4.81 GiB
   * in every one since round 5, on two machines (bench/RESULTS.md, "500,000 sessions"): 5.0 KB.
   * The earlier 4 (3.6 measured with idle sessions) predicted 3,920 MiB there against 4,921.
   */
  kernelSocketKB: 5,
  /** Virtual clock: memory per device, KB: its table record and queued events (304 bytes measured with 500,000 idle devices). */
  virtualDeviceKB: 0.5,
} as const;

/** Client sockets a part of the run holds at once. */
export interface SocketCounts {
  mqtt: number;
  http: number;
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

/** The run's memory, MB, by part: the simulator, the local brokers, the embedded backend and the kernel's sockets. */
export function memoryEstimate(s: ResolvedScenario, all: SocketCounts, processes: number, threads: number, brokers: number, inProcessBroker: 'lean' | 'aedes' | undefined, devices: number) {
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
