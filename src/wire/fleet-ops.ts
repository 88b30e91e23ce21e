/**
 * Fleet operations of the reference protocol: releases and their artifacts, update campaigns,
 * configuration pushes, remote commands (diagnostics), device logs and factory provisioning.
 * Shared by devices (drivers/) and the embedded backend (backend/), like reference-protocol.ts.
 *
 * Device side (Authorization: Device <key>):
 *   GET  /v1/artifacts/:name           Range: bytes=a-b              -> 206 (or 200 for the whole file)
 *   GET  /v1/devices/:id/target        the target may carry `update` (an UpdateOffer) and `configVersion`
 *   PUT  /v1/devices/:id/state         StateReport with campaign, cause and bytes
 *   POST /v1/provision                 manual mode: 202 {pending:true} + Retry-After until approved
 * MQTT (device's own topics):
 *   fleet/<id>/commands   (backend -> device)  DeviceMessage: update offer, config change, command
 *   fleet/<id>/responses  (device -> backend)  DeviceResponse: command result, config ack, end-of-line test
 *   fleet/<id>/logs       (device -> backend)  log lines, one per line of the payload
 * Operator side (Authorization: Operator <fleetKey>):
 *   POST /v1/releases      ReleaseSpec         -> 201 ReleaseInfo
 *   POST /v1/campaigns     CampaignSpec        -> 201 CampaignStatus
 *   GET  /v1/campaigns/:id                     -> 200 CampaignStatus
 *   POST /v1/config        ConfigPush          -> 202 {version, issuedAt, sent}
 *   POST /v1/commands      CommandRequest      -> 202 {id, issuedAt, sent}
 *   GET  /v1/commands/:id                      -> 200 CommandStatus
 *   POST /v1/provisioning  ProvisioningPolicy  -> 204
 *   GET  /v1/stats/fleet-ops                   -> 200 FleetOpsStats
 *
 * Times in payloads (`issuedAt`) are epoch milliseconds with sub-millisecond precision, so a
 * device on the same machine can measure a round trip from the operator's call.
 */

export const FLEET_PATHS = {
  artifact: (name: string) => `/v1/artifacts/${encodeURIComponent(name)}`,
  artifactPrefix: '/v1/artifacts/',
  releases: '/v1/releases',
  campaigns: '/v1/campaigns',
  campaign: (id: string) => `/v1/campaigns/${encodeURIComponent(id)}`,
  config: '/v1/config',
  commands: '/v1/commands',
  command: (id: string) => `/v1/commands/${encodeURIComponent(id)}`,
  provisioning: '/v1/provisioning',
  fleetOpsStats: '/v1/stats/fleet-ops',
} as const;

export const OPERATOR_AUTH_SCHEME = 'Operator';

export const responsesTopic = (deviceId: string) => `fleet/${deviceId}/responses`;
export const logsTopic = (deviceId: string) => `fleet/${deviceId}/logs`;

export type UpdateTarget = 'app' | 'os';

/** A release as the operator creates it; the backend makes one artifact per arch (and per delta base). */
export interface ReleaseSpec {
  name: string;
  target: UpdateTarget;
  /** Full artifact size, bytes. */
  size: number;
  /** CPU architectures built for; a device of another arch has no compatible artifact. */
  archs: string[];
  /** A delta from an older release, smaller than the full artifact. */
  delta?: { from: string; size: number };
}

export interface ArtifactRef {
  name: string;
  arch: string;
  kind: 'full' | 'delta';
  /** The release a delta applies to. */
  from?: string;
  size: number;
  /** Hex SHA-256 of the artifact ('' where the backend is a model and serves no bytes). */
  sha256: string;
}

export interface ReleaseInfo {
  name: string;
  target: UpdateTarget;
  artifacts: ArtifactRef[];
}

/** The artifact names of a release, so backend and model name them alike. */
export function artifactRefs(r: ReleaseSpec, sha = (_name: string) => ''): ArtifactRef[] {
  const out: ArtifactRef[] = [];
  for (const arch of r.archs) {
    const full = `${r.name}-${arch}`;
    out.push({ name: full, arch, kind: 'full', size: r.size, sha256: sha(full) });
    if (r.delta) {
      const d = `${r.name}-${arch}-from-${r.delta.from}`;
      out.push({ name: d, arch, kind: 'delta', from: r.delta.from, size: r.delta.size, sha256: sha(d) });
    }
  }
  return out;
}

export type RolloutSpec =
  | { strategy: 'all' }
  /** `perMinute` devices admitted per minute. */
  | { strategy: 'constant'; perMinute: number }
  /** `perMinute` to start with, multiplied by `growth` every `everyMs`. */
  | { strategy: 'exponential'; perMinute: number; growth: number; everyMs: number }
  /** Fractions of the fleet (ascending, last 1); each step soaks `stepWaitMs`, then its failure rate gates the next. */
  | { strategy: 'steps'; steps: number[]; stepWaitMs: number };

export interface CampaignSpec {
  release: string;
  rollout: RolloutSpec;
  /** Abort when failed / finished exceeds this (with at least `minSample` finished). */
  abortIf?: { failureRate: number; minSample: number };
  /** Devices the rollout is sized for (rates are fractions of it); default: devices registered now. */
  fleetSize?: number;
  /** How admitted devices hear of it: an MQTT message (and on their next poll), or only their next poll. */
  notify: 'mqtt' | 'poll';
  /** Fault injection: share of devices served a corrupted artifact. */
  corrupt?: number;
}

export type DeviceUpdateStatus = 'downloading' | 'downloaded' | 'verifying' | 'installing' | 'rebooting' | 'success' | 'failed' | 'rolled-back';
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['success', 'failed', 'rolled-back']);

/** Why an update did not end in success. */
export const FAILURE_CAUSES = ['incompatible', 'checksum', 'too-slow', 'download', 'health-check', 'battery'] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];

export interface UpdateOffer {
  campaign: string;
  release: string;
  target: UpdateTarget;
  artifacts: ArtifactRef[];
}

/** A step taken (0-based index of the new step) or the abort (in the step it tripped), ms since the campaign started. */
export interface RolloutChange {
  afterMs: number;
  step: number;
  aborted: boolean;
}

export interface CampaignStatus {
  id: string;
  release: string;
  state: 'running' | 'aborted' | 'done';
  /** Current step (steps strategy), else 0. */
  step: number;
  admittedFraction: number;
  /** Devices per last reported status. */
  statuses: Record<string, number>;
  /** Per step (one entry for other strategies): devices finished and failed among them. */
  cohorts: Array<{ upTo: number; finished: number; failed: number }>;
  reason?: string;
  /** Steps taken and the abort, ms since the campaign started (optional: a backend may not say). */
  changes?: RolloutChange[];
}

export interface ConfigPush {
  config: Record<string, string>;
}

export interface CommandRequest {
  name: string;
  /** Share of online devices to send it to (by rollout rank), default 1. */
  fraction?: number;
}

export interface CommandStatus {
  id: string;
  name: string;
  sent: number;
  answered: number;
  /** Round trips from the operator's call to each answer, ms. */
  rttMs: number[];
}

export interface ProvisioningPolicy {
  mode: 'auto' | 'manual';
  /** Manual mode: pending devices approved per second. */
  approvalRatePerSec?: number;
}

/** Backend -> device, on fleet/<id>/commands. */
export type DeviceMessage =
  | ({ type: 'update' } & UpdateOffer)
  | { type: 'config'; version: number; config: Record<string, string>; issuedAt: number }
  | { type: 'command'; id: string; name: string; issuedAt: number };

/** Device -> backend, on fleet/<id>/responses. */
export type DeviceResponse =
  | { type: 'command-result'; id: string; issuedAt: number; ok: boolean }
  | { type: 'config-ack'; version: number }
  | { type: 'eol'; ok: boolean };

export interface FleetOpsStats {
  artifactRequests: number;
  /** Body bytes written by the artifact server (cut responses count what was written). */
  artifactBytesServed: number;
  bytesByDevice: Record<string, number>;
  stateReports: number;
  /** Devices per release they last reported as running (success, or initial). */
  versions: Record<string, number>;
  /** Versions over time: [epoch ms, {release: devices}]. */
  versionHistory: Array<[number, Record<string, number>]>;
  configAcks: number;
  commandAnswers: number;
  logLines: number;
  logSuppressedNotices: number;
  logLinesSuppressed: number;
  eolReports: number;
  pendingProvisions: number;
  approved: number;
}

/** `suppressed N` notice a device sends after dropping N log lines. */
export const SUPPRESSED_PREFIX = 'suppressed ';
