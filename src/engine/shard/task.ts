import type { MessagePort } from 'node:worker_threads';
import type { ResolvedPreset, ResolvedScenario } from '../../scenario/resolved.js';
import type { TlsSettings } from '../../drivers/types.js';
import type { DeviceCertSource } from '../../identity/device-identities.js';

/** Where a shard's devices connect to: resolved by the coordinator (embedded URLs are only known once it listens). */
export interface ShardTarget {
  httpUrl: string;
  /** One broker, or several: broker b serves the devices of `brokerRanges[b]`. */
  mqttUrl: string | string[];
  /** With several brokers, the contiguous global device indices each serves (drivers/mqtt/broker-devices.ts). */
  brokerRanges?: Array<{ firstDevice: number; count: number }>;
  fleetKey: string;
  preset: ResolvedPreset;
  /** Source addresses to spread MQTT client sockets over. */
  sourceAddresses?: string[];
  tls?: ShardTls;
}

/** TLS as a shard sees it: trust, SNI, verification, and where its devices' client certificates come from. */
export interface ShardTls {
  settings: TlsSettings;
  deviceCerts?: DeviceCertSource;
}

/** The one long-lived piscina task of a shard. Structured-cloned into the worker, except `port` (transferred). */
export interface ShardTask {
  runId: string;
  shard: number;
  shards: number;
  /** Global index of the shard's first device and how many it owns (a contiguous range). */
  firstDevice: number;
  count: number;
  scenario: ResolvedScenario;
  target: ShardTarget;
  port: MessagePort;
  /** How long to wait for in-flight acks after the run ends, before disconnecting (wall ms). */
  drainMs: number;
  /** Return per-device counts in the final message (tests reconcile them with the backend). */
  collectDeviceCounts?: boolean;
  /** Virtual clock: every modelled ack is its own queued event, never deferred (tests and benches compare the two). */
  eagerAcks?: boolean;
  /** Profile this shard's thread and write the profile into `profileDir`. */
  profile?: 'cpu' | 'heap';
  profileDir?: string;
}
