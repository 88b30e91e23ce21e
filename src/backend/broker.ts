import type { BrokerFleetOps, OperatorCredential } from './broker-policy.js';

/**
 * The embedded backend's MQTT broker, as the rest of the backend sees it. Two implementations
 * carry the sessions with the same policy (broker-policy.ts): broker-lean.ts (the default: fleetsim's
 * own MQTT 3.1.1 server, a fraction of aedes' CPU and memory per device) and broker-aedes.ts.
 */

export type { OperatorCredential } from './broker-policy.js';

/** Which broker carries the embedded backend's MQTT sessions. */
export type BrokerKind = 'lean' | 'aedes';

export interface Broker {
  readonly url: string;
  readonly port: number;
  /** Publishes `payload` to `fleet/<deviceId>/commands` on behalf of the backend. */
  sendCommand(deviceId: string, payload: Buffer | string, qos?: 0 | 1): Promise<void>;
  /** The same, fire and forget (QoS 1), for fleet operations that publish to many devices at once. */
  publishCommand(deviceId: string, payload: string): void;
  /** MQTT sessions open right now (logged in). */
  connectedClients(): number;
  /** Stops accepting, drops every connection; idempotent. */
  close(): Promise<void>;
}

export interface BrokerOptions {
  host: string;
  port: number;
  log: (line: string) => void;
  /** A login that may subscribe to every topic (watch-only); absent: nobody can. */
  operator?: OperatorCredential;
  /** Fleet operations: sessions, command answers and logs (backend/fleet-ops.ts). */
  fleetOps?: BrokerFleetOps;
  /** How long a subscriber may leave its socket undrained (default DRAIN_TIMEOUT_MS; tests shorten it). */
  drainTimeoutMs?: number;
}

/**
 * Accept queue length asked of the kernel (capped by net.core.somaxconn). Node's default of 511
 * overflows when a factory line powers devices on at thousands per second while the event loop is
 * busy: the kernel then drops the handshake's last ACK and the device's CONNECT waits for a
 * retransmission (1 s, 3 s, 7 s ...), which is the backend's doing, not the device's.
 */
export const LISTEN_BACKLOG = 4096;

/** A session that sends no CONNECT within this long is closed (aedes' connectTimeout). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A subscriber whose socket has not drained for this long is closed, so it cannot stall delivery to others. */
export const DRAIN_TIMEOUT_MS = 10_000;

/** A host as it goes into a URL: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
