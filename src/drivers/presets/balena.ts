import { createHash, createHmac } from 'node:crypto';
import type { DeviceCredentials, HttpRequestSpec, Preset, PresetSettings, TargetAnswer } from '../preset.js';
import type { DeviceStateReport } from '../events.js';
import { balenaUuidOf } from '../../wire/balena-uuid.js';
import { HTTP_ONLY_MQTT } from './http-only.js';

/**
 * The `balena` preset: a device as balena-supervisor (v19) drives balena's device API. Sources
 * per endpoint in docs/presets/balena.md.
 *
 * - Registration: `POST /device/register` with the fleet's provisioning key as Bearer and
 *   `{user, application, uuid, device_type, api_key, supervisor_version, os_version, os_variant,
 *   mac_address}` (balena-register-device), answered 201 `{id, uuid, api_key}`. The uuid and the
 *   device's own API key are made by the device (32 hex characters each, as generateUniqueKey;
 *   the uuid encodes the serial, wire/balena-uuid.ts); every later request carries the device
 *   key as Bearer.
 * - Poll: `GET /device/v3/{uuid}/state` with If-None-Match (304: unchanged). The target state
 *   names the fleet app's release by commit and its services' images; a release other than the
 *   one the device runs is an update offer. The supervisor's interval is the target config's
 *   `BALENA_SUPERVISOR_POLL_INTERVAL` (default 900 s) plus up to 60 s of jitter: the scenario's
 *   poll interval plays it (docs).
 * - Image: the service image, fetched as one blob from the registry the location names
 *   (`GET /v2/{repository}/blobs/sha256:{hex}` with Range) and checked against that digest.
 * - State reports: `PATCH /device/v3/state` `{[uuid]: {apps: {[app]: {release_uuid, releases:
 *   {[commit]: {update_status, services}}}}}}` with update_status downloading, downloaded,
 *   applying changes, done or aborted; at most one per 10 s per device for the steps between
 *   (the supervisor's maxReportFrequency), the final one always.
 * - Logs: batches of at most 10 lines, `POST /device/v2/{uuid}/logs`, the supervisor's
 *   "Suppressed N message(s)" notice first after drops.
 * - No re-authentication: device keys do not expire and the supervisor has none; a 401 is
 *   counted and the device keeps its key. No telemetry route: messages are not sent.
 *
 * Concurrency: the shard's thread only (per-device report times and learnt releases in maps).
 */

export interface BalenaPresetOptions {
  /** Device type slug the devices register as (default `generic-aarch64`). */
  deviceType?: string;
  /** balena-supervisor version reported at registration. */
  supervisorVersion?: string;
  /** Epoch ms for the report throttle (tests replace it). */
  now?: () => number;
}

/** balena-supervisor src/api-binder/report.ts maxReportFrequency. */
export const BALENA_REPORT_INTERVAL_MS = 10_000;
/** balena-supervisor appUpdatePollInterval default (src/config/schema-type.ts). */
export const BALENA_DEFAULT_POLL_MS = 900_000;
/** open-balena-api device-logs/lib/supervisor.ts MAX_LOGS_PER_BATCH. */
export const BALENA_LOGS_PER_BATCH = 10;
/** balena-supervisor src/logging/balena-backend.ts MAX_LOG_LENGTH: longer messages are cut with `[...]`. */
export const BALENA_MAX_LOG_LENGTH = 10_000;

/** fleetsim's OTA steps → [update_status, service status]; undefined: no report. */
const STEP: Record<string, readonly [string, string] | undefined> = {
  downloading: ['downloading', 'Downloading'],
  downloaded: ['downloaded', 'Downloaded'],
  verifying: undefined,
  installing: ['applying changes', 'Installing'],
  rebooting: undefined,
  success: ['done', 'Running'],
  failed: ['aborted', 'Aborted'],
  'rolled-back': ['aborted', 'Aborted'],
};
const FINAL = new Set(['success', 'failed', 'rolled-back']);

/** What a target state said about one release, kept for the reports that name it. */
interface KnownRelease {
  commit: string;
  name: string;
  appUuid: string;
  services: Array<{ name: string; image: string; id: number }>;
}

export function balenaPreset(settings: PresetSettings, options: BalenaPresetOptions = {}): Preset {
  const m = /^(\d+):(.+)$/.exec(settings.fleetKey);
  // target.fleetKey is `<fleet id>:<provisioning key>` (config.json applicationId and apiKey).
  const fleetId = m ? Number(m[1]) : 1;
  const provisioningKey = m ? m[2] : settings.fleetKey;
  const deviceType = options.deviceType ?? 'generic-aarch64';
  const now = options.now ?? Date.now;
  const byCommit = new Map<string, KnownRelease>();
  const byName = new Map<string, KnownRelease>();
  const lastReport = new Map<string, number>();
  /** The fleet app's latest service id: application log lines carry it (the supervisor drops lines without one). */
  let serviceId: number | undefined;

  const uuidOf = balenaUuidOf;
  const keyOf = (serial: string): string => createHmac('sha256', provisioningKey).update(`device-key:${serial}`).digest('hex').slice(0, 32);

  const decodePoll = (body: string): TargetAnswer | undefined => {
    let doc: Record<string, { config?: Record<string, unknown>; apps?: Record<string, TargetApp> }>;
    try {
      doc = JSON.parse(body) as typeof doc;
    } catch {
      return undefined;
    }
    if (typeof doc !== 'object' || doc === null) return undefined;
    const keys = Object.keys(doc);
    const dev = keys.length === 1 ? doc[keys[0]] : undefined;
    if (typeof dev !== 'object' || dev === null || typeof dev.apps !== 'object' || dev.apps === null) return undefined;
    const cfg = dev.config?.BALENA_SUPERVISOR_POLL_INTERVAL ?? dev.config?.RESIN_SUPERVISOR_POLL_INTERVAL;
    const nextPollMs = typeof cfg === 'string' && /^\d+$/.test(cfg) ? Number(cfg) : BALENA_DEFAULT_POLL_MS;
    for (const [appUuid, app] of Object.entries(dev.apps)) {
      if (typeof app !== 'object' || app === null || typeof app.releases !== 'object' || app.releases === null) return undefined;
      if (app.is_host === true || (app.class !== undefined && app.class !== 'fleet')) continue;
      const commits = Object.keys(app.releases);
      if (commits.length === 0) return { changed: false, nextPollMs };
      const commit = commits[0];
      const services = app.releases[commit]?.services;
      if (typeof services !== 'object' || services === null) return undefined;
      const known: KnownRelease = { commit, name: commit, appUuid, services: [] };
      for (const [name, s] of Object.entries(services)) {
        if (typeof s?.image !== 'string' || typeof s.id !== 'number') return undefined;
        known.services.push({ name, image: s.image, id: s.id });
        const label = s.labels?.['io.fleetsim.release'];
        if (typeof label === 'string') known.name = label;
      }
      const first = known.services[0];
      const blob = first === undefined ? undefined : blobOf(first.image);
      if (blob === undefined) return undefined;
      byCommit.set(commit, known);
      byName.set(known.name, known);
      serviceId = first.id;
      return {
        changed: true,
        nextPollMs,
        update: {
          campaign: commit,
          release: known.name,
          target: 'app',
          // No size in the target state: learned from the download; the digest is the location's.
          artifacts: [{ name: first.image, url: blob.path, kind: 'full', size: 0, sha256: blob.sha256 }],
        },
      };
    }
    return { changed: false, nextPollMs };
  };

  return {
    name: 'balena',
    session: 'none',
    provisionRequest(serial) {
      const body = {
        application: fleetId,
        uuid: uuidOf(serial),
        device_type: deviceType,
        api_key: keyOf(serial),
        supervisor_version: options.supervisorVersion ?? '19.0.5',
        os_version: 'balenaOS 6.0.0',
        os_variant: 'prod',
        mac_address: macOf(serial),
      };
      return { method: 'POST', path: '/device/register', body: JSON.stringify(body), authorization: `Bearer ${provisioningKey}` };
    },
    decodeProvision(body, serial) {
      let d: { id?: unknown; uuid?: unknown; api_key?: unknown };
      try {
        d = JSON.parse(body) as typeof d;
      } catch {
        return undefined;
      }
      if (typeof d?.id !== 'number' || d.uuid !== uuidOf(serial)) return undefined;
      return { deviceId: d.uuid, secret: typeof d.api_key === 'string' ? d.api_key : keyOf(serial), extra: { id: String(d.id) } };
    },
    authorization: (creds) => `Bearer ${creds.secret}`,
    // balena has no telemetry route: messages are dropped as unsendable (counted by the pipeline).
    telemetryRequest: () => undefined,
    pollRequest: (creds) => ({ method: 'GET', path: `/device/v3/${encodeURIComponent(creds.deviceId)}/state` }),
    decodePoll,
    stateReport(creds, report: DeviceStateReport) {
      const step = STEP[report.status];
      const target = report.campaign === undefined ? undefined : byCommit.get(report.campaign);
      if (step === undefined || target === undefined) return undefined;
      const final = FINAL.has(report.status);
      const t = now();
      const last = lastReport.get(creds.deviceId);
      // The supervisor reports at most every 10 s and sends only the latest state then: a step
      // between is folded into the next report; the final state is never held back here.
      if (!final && last !== undefined && t - last < BALENA_REPORT_INTERVAL_MS) return undefined;
      lastReport.set(creds.deviceId, t);
      const running = byName.get(report.release)?.commit;
      const services: Record<string, unknown> = {};
      for (const s of target.services) {
        services[s.name] = { image: s.image, status: step[1], ...(step[0] === 'downloading' ? { download_progress: 0 } : {}) };
      }
      const app = { ...(running === undefined ? {} : { release_uuid: running }), releases: { [target.commit]: { update_status: step[0], services } } };
      return { method: 'PATCH', path: '/device/v3/state', body: JSON.stringify({ [creds.deviceId]: { apps: { [target.appUuid]: app } } }) };
    },
    artifactRequest: (_creds, artifact) => ({ method: 'GET', path: artifact.url ?? artifact.name }),
    logsRequest(creds, suppressed, line, lines) {
      const ts = now();
      const message = line.length > BALENA_MAX_LOG_LENGTH ? line.slice(0, BALENA_MAX_LOG_LENGTH - 5) + '[...]' : line;
      const entries: unknown[] = [];
      if (suppressed > 0) entries.push({ message: `Warning: Suppressed ${suppressed} message(s) due to high load`, timestamp: ts, isSystem: true, isStdErr: true });
      const entry = serviceId === undefined ? { message, timestamp: ts, isSystem: true, isStdErr: false } : { message, timestamp: ts, isSystem: false, isStdErr: false, serviceId };
      for (let i = 0; i < lines; i++) entries.push(entry);
      const out: HttpRequestSpec[] = [];
      const path = `/device/v2/${encodeURIComponent(creds.deviceId)}/logs`;
      for (let i = 0; i < entries.length; i += BALENA_LOGS_PER_BATCH) out.push({ method: 'POST', path, body: JSON.stringify(entries.slice(i, i + BALENA_LOGS_PER_BATCH)) });
      return out;
    },
    // No MQTT session with the platform (session 'none'): the preset interface's MQTT members, inert.
    ...HTTP_ONLY_MQTT,
  };
}

interface TargetApp {
  class?: unknown;
  is_host?: unknown;
  releases?: Record<string, { services?: Record<string, { id?: unknown; image?: unknown; labels?: Record<string, unknown> }> }>;
}

/**
 * The registry blob of an image location `host[:port]/repository@sha256:hex`: its path on the
 * registry (Docker Registry HTTP API V2 "fetch blob") and its digest; undefined for a location
 * without a digest.
 */
export function blobOf(location: string): { path: string; sha256: string } | undefined {
  const m = /^[^/]+\/(.+)@sha256:([0-9a-f]{64})$/.exec(location);
  return m === null ? undefined : { path: `/v2/${m[1]}/blobs/sha256:${m[2]}`, sha256: m[2] };
}

/** A locally administered MAC address derived from the serial (stable across runs). */
function macOf(serial: string): string {
  const h = createHash('sha256').update(`mac:${serial}`).digest();
  h[0] = (h[0] & 0xfc) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
