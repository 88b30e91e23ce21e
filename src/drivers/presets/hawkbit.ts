import type { DeviceCredentials, HttpRequestSpec, Preset, PresetSettings, TargetAnswer } from '../preset.js';
import type { DeviceStateReport, OfferedArtifact } from '../events.js';
import { hawkbitTargetToken } from '../../wire/hawkbit-token.js';
import { HTTP_ONLY_MQTT } from './http-only.js';

/**
 * The `hawkbit` preset: a controller speaking hawkBit's Direct Device Integration API
 * (eclipse-hawkbit/hawkbit DdiRootControllerRestApi and the DDI model; eclipse.dev/hawkbit/rest-api/ddi/),
 * the way rauc-hawkbit-updater and SWUpdate's suricatta drive it. Sources per endpoint in
 * docs/presets/hawkbit.md.
 *
 * - Identity: the controller id is the device's serial; `TargetToken` auth with the token the
 *   operator registered the target with (derived from the fleet key, as the fake derives it), or
 *   `GatewayToken` (the fleet key itself) when built with `auth: 'gateway'`.
 * - Provisioning is the first poll of the controller base resource (a gateway-authenticated poll
 *   registers the target; a target-token one proves the token).
 * - Poll: `GET /{tenant}/controller/v1/{id}` with If-None-Match; sleeps `config.polling.sleep`.
 *   `_links.deploymentBase` is followed (GET) to the deployment; `_links.cancelAction` is followed
 *   and acknowledged (feedback closed/success); `_links.configData` is answered with a PUT.
 * - Handling: download or update `skip` (download-only, or a closed maintenance window) defers the
 *   update: the device keeps polling at the shortened sleep and takes it when both are allowed.
 *   `attempt` is taken like `forced`.
 * - Feedback: `POST …/deploymentBase/{id}/feedback` with execution proceeding, downloaded and
 *   closed (success or failure); 410 withdraws the update.
 */

export interface HawkbitPresetOptions {
  tenant?: string;
  /** TargetToken per device (default) or the tenant's GatewayToken. */
  auth?: 'target' | 'gateway';
}


/** fleetsim's OTA steps → DDI feedback (execution, finished); undefined: no request. */
const FEEDBACK: Record<string, [string, string] | undefined> = {
  downloading: ['proceeding', 'none'],
  downloaded: ['downloaded', 'none'],
  verifying: undefined,
  installing: ['proceeding', 'none'],
  rebooting: undefined,
  success: ['closed', 'success'],
  failed: ['closed', 'failure'],
  'rolled-back': ['closed', 'failure'],
};

export function hawkbitPreset(settings: PresetSettings, options: HawkbitPresetOptions = {}): Preset {
  const tenant = options.tenant ?? 'DEFAULT';
  const gateway = options.auth === 'gateway';
  const base = (id: string): string => `/${encodeURIComponent(tenant)}/controller/v1/${encodeURIComponent(id)}`;
  const feedback = (creds: DeviceCredentials, actionId: string, execution: string, finished: string, details: string[]): HttpRequestSpec => ({
    method: 'POST',
    path: `${base(creds.deviceId)}/deploymentBase/${encodeURIComponent(actionId)}/feedback`,
    body: JSON.stringify({ timestamp: Date.now(), status: { execution, result: { finished }, details } }),
  });

  return {
    name: 'hawkbit',
    session: 'none',
    updateGoneStatuses: [410],
    provisionRequest(serial) {
      const secret = gateway ? settings.fleetKey : hawkbitTargetToken(settings.fleetKey, serial);
      return { method: 'GET', path: base(serial), authorization: `${gateway ? 'GatewayToken' : 'TargetToken'} ${secret}` };
    },
    decodeProvision(body, serial) {
      if (readBase(body) === undefined) return undefined;
      return { deviceId: serial, secret: gateway ? settings.fleetKey : hawkbitTargetToken(settings.fleetKey, serial) };
    },
    authorization: (creds) => `${gateway ? 'GatewayToken' : 'TargetToken'} ${creds.secret}`,
    // DDI has no telemetry: messages are not sent (the pipeline counts them unsendable).
    telemetryRequest: () => undefined,
    pollRequest: (creds) => ({ method: 'GET', path: base(creds.deviceId) }),
    decodePoll(body) {
      const b = readBase(body);
      if (b === undefined) return undefined;
      const also: HttpRequestSpec[] = [];
      if (b.configData !== undefined) {
        also.push({ method: 'PUT', path: b.configData, body: JSON.stringify({ mode: 'merge', data: { fleetsim: 'true' } }) });
      }
      const follow = b.cancelAction ?? b.deploymentBase;
      return { changed: follow !== undefined, nextPollMs: b.sleepMs, ...(follow ? { follow: { method: 'GET', path: follow } } : {}), ...(also.length ? { also } : {}) };
    },
    decodeFollow(body, creds) {
      let d: Record<string, unknown>;
      try {
        d = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return undefined;
      }
      if (typeof d?.id !== 'string') return undefined;
      const cancel = d.cancelAction as { stopId?: unknown } | undefined;
      if (cancel !== undefined) {
        if (typeof cancel?.stopId !== 'string') return undefined;
        const ack: HttpRequestSpec = {
          method: 'POST',
          path: `${base(creds.deviceId)}/cancelAction/${encodeURIComponent(d.id)}/feedback`,
          body: JSON.stringify({ timestamp: Date.now(), status: { execution: 'closed', result: { finished: 'success' }, details: ['canceled by the device'] } }),
        };
        return { changed: true, withdrawn: cancel.stopId, also: [ack] };
      }
      return decodeDeployment(d);
    },
    stateReport(creds, report: DeviceStateReport) {
      const f = FEEDBACK[report.status];
      if (f === undefined || report.campaign === undefined) return undefined;
      return feedback(creds, report.campaign, f[0], f[1], report.cause ? [report.cause] : [`fleetsim: ${report.status}`]);
    },
    artifactRequest: (_creds, artifact) => ({ method: 'GET', path: artifact.url ?? artifact.name }),
    // No MQTT session with the platform (session 'none'): the preset interface's MQTT members, inert.
    ...HTTP_ONLY_MQTT,
  };
}

interface Base {
  sleepMs: number;
  deploymentBase?: string;
  cancelAction?: string;
  configData?: string;
}

/** The controller base resource: `config.polling.sleep` (HH:mm:ss) and `_links`. */
function readBase(body: string): Base | undefined {
  let d: { config?: { polling?: { sleep?: unknown } }; _links?: Record<string, { href?: unknown } | undefined> };
  try {
    d = JSON.parse(body) as typeof d;
  } catch {
    return undefined;
  }
  const sleep = d?.config?.polling?.sleep;
  const m = typeof sleep === 'string' ? /^(\d{2}):(\d{2}):(\d{2})$/.exec(sleep) : null;
  if (m === null) return undefined;
  const href = (rel: string): string | undefined => {
    const h = d._links?.[rel]?.href;
    return typeof h === 'string' ? h : undefined;
  };
  return { sleepMs: (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000, deploymentBase: href('deploymentBase'), cancelAction: href('cancelAction'), configData: href('configData') };
}

/** A deploymentBase answer as an update offer; deferred (unchanged) while download or update is `skip`. */
function decodeDeployment(d: Record<string, unknown>): TargetAnswer | undefined {
  const dep = d.deployment as { download?: unknown; update?: unknown; chunks?: unknown } | undefined;
  if (typeof dep !== 'object' || dep === null || !Array.isArray(dep.chunks)) return undefined;
  const artifacts: OfferedArtifact[] = [];
  let version = '';
  let os = false;
  for (const c of dep.chunks as Array<{ part?: unknown; version?: unknown; artifacts?: unknown }>) {
    if (typeof c?.version !== 'string' || !Array.isArray(c.artifacts)) return undefined;
    version ||= c.version;
    os ||= c.part === 'os';
    for (const a of c.artifacts as Array<{ filename?: unknown; size?: unknown; hashes?: { sha256?: unknown }; _links?: Record<string, { href?: unknown }> }>) {
      const href = a?._links?.download?.href ?? a?._links?.['download-http']?.href;
      if (typeof a?.filename !== 'string' || typeof a.size !== 'number' || typeof a.hashes?.sha256 !== 'string' || typeof href !== 'string') return undefined;
      artifacts.push({ name: a.filename, url: href, kind: 'full', size: a.size, sha256: a.hashes.sha256 });
    }
  }
  if (dep.download === 'skip' || dep.update === 'skip') return { changed: false };
  // fleetsim's OTA downloads one artifact per update: the first chunk's first artifact.
  // A chunk's `part` is its software module's type: only an `os` module reboots the device into
  // the new image; any other (hawkBit's `application`, or a custom type) restarts the application.
  return { changed: true, update: { campaign: d.id as string, release: version, target: os ? 'os' : 'app', artifacts: artifacts.slice(0, 1) } };
}
