/**
 * The reference fleet protocol: the wire contract between fleetsim's devices (drivers/) and the
 * embedded backend (backend/). It is the only code the two share, so the backend stays replaceable
 * by a real one that speaks the same protocol. Everything here is data and pure functions.
 *
 * HTTP (JSON bodies):
 *   POST /v1/provision                 {serial, fleetKey}            -> 201 {deviceId, deviceKey}
 *                                       wrong fleet key              -> 401
 *   GET  /v1/devices/:id/target        Authorization: Device <key>   -> 200 {release, config, etag}
 *                                       If-None-Match: <etag>        -> 304
 *   PUT  /v1/devices/:id/state         Authorization: Device <key>   {release, status, ...} -> 204
 *   GET  /v1/stats/devices             (operator)                    -> 200 DeviceStatsResponse
 *   GET  /v1/health                                                  -> 200 {ok:true}
 *   429 / 503 answers may carry Retry-After (seconds), which devices honour.
 *
 * MQTT (3.1.1): client id = deviceId, username = deviceId, password = deviceKey.
 *   publish   fleet/<deviceId>/telemetry   payload: telemetry JSON padded to the configured size
 *   subscribe fleet/<deviceId>/commands    commands from the backend
 *   A device may publish and subscribe only under fleet/<deviceId>/.
 */

import type { UpdateOffer } from './fleet-ops.js';

export const HTTP_PATHS = {
  provision: '/v1/provision',
  health: '/v1/health',
  deviceStats: '/v1/stats/devices',
  target: (deviceId: string) => `/v1/devices/${encodeURIComponent(deviceId)}/target`,
  state: (deviceId: string) => `/v1/devices/${encodeURIComponent(deviceId)}/state`,
} as const;

export const AUTH_SCHEME = 'Device';

/** The release every device runs when it leaves the factory, until an update changes it. */
export const INITIAL_RELEASE_NAME = 'app-1.0';

export const TOPIC_ROOT = 'fleet';
export const telemetryTopic = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/telemetry`;
export const commandsTopic = (deviceId: string) => `${TOPIC_ROOT}/${deviceId}/commands`;

/** The device id a topic belongs to, or undefined when it is not under `fleet/<id>/`. */
export function topicDeviceId(topic: string): string | undefined {
  if (!topic.startsWith(TOPIC_ROOT + '/')) return undefined;
  const end = topic.indexOf('/', TOPIC_ROOT.length + 1);
  if (end < 0) return undefined;
  return topic.slice(TOPIC_ROOT.length + 1, end);
}

export interface ProvisionRequest {
  serial: string;
  fleetKey: string;
}
export interface ProvisionResponse {
  deviceId: string;
  deviceKey: string;
}
export interface TargetStateResponse {
  release: string;
  config: Record<string, string>;
  etag: string;
  /** Fleet operations (wire/fleet-ops.ts): configuration version and when it was issued (epoch ms). */
  configVersion?: number;
  configIssuedAt?: number;
  /** An update campaign admits this device. */
  update?: UpdateOffer;
}
export interface StateReport {
  release: string;
  status: string;
  /** Fleet operations: the campaign this report is about, why it failed, bytes downloaded. */
  campaign?: string;
  cause?: string;
  bytes?: number;
}

/** Per-device counts the backend keeps of the telemetry it received. */
export interface DeviceTelemetryCounts {
  deviceId: string;
  /** Distinct sequence numbers received. */
  received: number;
  /** Messages whose sequence number had already been received. */
  duplicates: number;
  /** Sequence numbers below the highest one seen that never arrived. */
  gaps: number;
  /** Highest sequence number seen, or -1. */
  maxSeq: number;
  /** How many times this device provisioned. */
  provisions: number;
  /** How many target-state polls were answered. */
  polls: number;
}
export interface DeviceStatsResponse {
  devices: DeviceTelemetryCounts[];
  totals: {
    received: number;
    duplicates: number;
    gaps: number;
    provisions: number;
    polls: number;
    devices: number;
    /** MQTT publishes / subscriptions the broker refused (outside the device's own topics); absent from backends that do not count them. */
    refusedPublishes?: number;
    refusedSubscribes?: number;
  };
}

/**
 * Telemetry payload: JSON `{"seq":N,"ts":T,"pad":"..."}` padded with `x` so the whole payload is
 * exactly `size` bytes (never less than the JSON head needs). JSON keeps it readable by any real
 * backend; the fixed `{"seq":` prefix lets the embedded backend read the sequence number without
 * parsing the whole document.
 */
export const TELEMETRY_PREFIX = '{"seq":';
const PREFIX_BYTES = Buffer.from(TELEMETRY_PREFIX, 'latin1');

/** Writes a telemetry payload into a new buffer of exactly max(size, head) bytes. */
export function encodeTelemetry(seq: number, tsMs: number, size: number): Buffer {
  const head = `${TELEMETRY_PREFIX}${seq},"ts":${Math.floor(tsMs)},"pad":"`;
  const total = Math.max(size, head.length + 2);
  const buf = Buffer.allocUnsafe(total);
  const n = buf.write(head, 0, 'latin1');
  buf.fill(0x78 /* x */, n, total - 2);
  buf[total - 2] = 0x22; // "
  buf[total - 1] = 0x7d; // }
  return buf;
}

/** Reads the sequence number of a telemetry payload, or -1 when the payload is not one. */
export function decodeTelemetrySeq(payload: Uint8Array, start = 0, end = payload.length): number {
  if (end - start < PREFIX_BYTES.length + 1) return -1;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (payload[start + i] !== PREFIX_BYTES[i]) return -1;
  let seq = 0;
  let i = start + PREFIX_BYTES.length;
  const first = i;
  for (; i < end; i++) {
    const c = payload[i];
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
  }
  return i === first ? -1 : seq;
}
