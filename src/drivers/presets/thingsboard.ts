import type { DeviceCommand, OfferedArtifact, UpdateOffer } from '../events.js';
import { isObject, paddedJson, parseObject as parse } from './json.js';
import type { DeviceCredentials, DeviceMessage, HttpRequestSpec, MqttUplink, Preset, PresetSettings, TargetAnswer } from '../preset.js';

/**
 * The `thingsboard` preset: a device on ThingsBoard's device API (docs/presets/thingsboard.md has
 * the page behind each topic and route). MQTT for the session (username = access token),
 * telemetry, shared-attribute pushes (firmware assignments and configuration), server-side RPC
 * and replies; HTTP where the platform offers it and the driver needs a request: provisioning
 * (`POST /api/v1/provision`), the attribute read that stands in for a poll, the firmware download
 * (Range-resumable) and the fw_state reports.
 *
 * The fleet key is `<provisionDeviceKey>:<provisionDeviceSecret>` of the device profile.
 */

/** The firmware assignment's shared attributes (OtaPackageKey.java). */
const FW_SHARED_KEYS = 'fw_title,fw_version,fw_checksum,fw_checksum_algorithm,fw_size';
/**
 * ThingsBoard has no configuration version: this preset's convention is a shared attribute
 * `configVersion` (an integer the operator raises with each change); the other shared attributes
 * (fw_* aside) are the values.
 */
export const CONFIG_VERSION_KEY = 'configVersion';
const RPC_REQUEST = 'v1/devices/me/rpc/request/';

/** fleetsim update statuses → ThingsBoard fw_state (OtaPackageUpdateStatus.java). */
const FW_STATE: Record<string, string> = {
  downloading: 'DOWNLOADING',
  downloaded: 'DOWNLOADED',
  verifying: 'VERIFIED',
  installing: 'UPDATING',
  rebooting: 'UPDATING',
  success: 'UPDATED',
  failed: 'FAILED',
  'rolled-back': 'FAILED',
};

export function thingsboardPreset(settings: PresetSettings): Preset {
  const colon = settings.fleetKey.indexOf(':');
  const provisionDeviceKey = colon < 0 ? settings.fleetKey : settings.fleetKey.slice(0, colon);
  const provisionDeviceSecret = colon < 0 ? '' : settings.fleetKey.slice(colon + 1);
  const api = (creds: DeviceCredentials, rest: string) => `/api/v1/${encodeURIComponent(creds.secret)}/${rest}`;
  const telemetry = (creds: DeviceCredentials, values: Record<string, unknown>): HttpRequestSpec => ({ method: 'POST', path: api(creds, 'telemetry'), body: JSON.stringify(values) });
  return {
    name: 'thingsboard',
    provisionRequest: (serial) => ({ method: 'POST', path: '/api/v1/provision', body: JSON.stringify({ deviceName: serial, provisionDeviceKey, provisionDeviceSecret }) }),
    decodeProvision(body, serial) {
      const r = parse(body);
      return r?.status === 'SUCCESS' && r.credentialsType === 'ACCESS_TOKEN' && typeof r.credentialsValue === 'string' ? { deviceId: serial, secret: r.credentialsValue } : undefined;
    },
    // NOT_FOUND (unknown provision key) and FAILURE (e.g. the device name exists already) come with
    // HTTP 200: the platform's refusal, counted as rejected.
    provisionRefused(body) {
      const s = parse(body)?.status;
      return s === 'FAILURE' || s === 'NOT_FOUND';
    },
    // The token is in the path; no header.
    authorization: () => undefined,
    // A device reads its shared attributes (fw_* among them) when it comes up: an assignment
    // pushed while it was offline is not pushed again (docs/presets/thingsboard.md cites the pages).
    pollOnConnect: true,
    connectIdentity: (creds) => ({ clientId: creds.deviceId, username: creds.secret }),
    subscriptions: () => ['v1/devices/me/attributes', 'v1/devices/me/rpc/request/+'],
    telemetryTopic: () => 'v1/devices/me/telemetry',
    telemetryPayload,
    decodeMessage(topic, payload) {
      const j = parse(payload.toString('utf8'));
      if (j === undefined) return undefined;
      if (topic === 'v1/devices/me/attributes') return fromShared(j);
      if (topic.startsWith(RPC_REQUEST) && typeof j.method === 'string') {
        const args = isObject(j.params) ? j.params : undefined;
        // The RPC's params are the caller's own: fleetsim's operator puts its call time there (issuedAt), so the round trip counts from the call.
        const command: DeviceCommand = { id: topic.slice(RPC_REQUEST.length), name: j.method, args, issuedAt: typeof args?.issuedAt === 'number' ? args.issuedAt : undefined };
        return { kind: 'command', command };
      }
      return undefined;
    },
    pollRequest: (creds) => ({ method: 'GET', path: api(creds, `attributes?sharedKeys=${FW_SHARED_KEYS},${CONFIG_VERSION_KEY}`) }),
    decodePoll(body): TargetAnswer | undefined {
      const j = parse(body);
      if (j === undefined) return undefined;
      const shared = isObject(j.shared) ? j.shared : {};
      const m = fromShared(shared);
      return { changed: m !== undefined, update: m?.kind === 'update' ? m.offer : undefined, config: m?.kind === 'config' ? m.change : undefined };
    },
    stateReport(creds, report) {
      const values: Record<string, unknown> = { fw_state: FW_STATE[report.status] ?? report.status };
      // current_fw_* name what the device runs: the new release once UPDATED (the OTA guide's status report).
      if (report.status === 'success' && report.campaign !== undefined) {
        values.current_fw_title = report.campaign.slice(0, report.campaign.lastIndexOf('@'));
        values.current_fw_version = report.release;
      }
      if (report.cause !== undefined) values.fw_error = report.cause;
      return telemetry(creds, values);
    },
    artifactRequest: (creds, artifact) => ({ method: 'GET', path: api(creds, `firmware?title=${encodeURIComponent(titleOf(artifact))}&version=${encodeURIComponent(versionOf(artifact))}`) }),
    commandReply: (_creds, command, ok) => ({ topic: `v1/devices/me/rpc/response/${command.id}`, payload: JSON.stringify({ ok }) }),
    configAck: (_creds, version) => ({ topic: 'v1/devices/me/attributes', payload: `{"configApplied":${version}}` }),
    endOfLineReport: (_creds, ok) => ({ topic: 'v1/devices/me/attributes', payload: `{"endOfLineOk":${ok}}` }),
    logs(_creds, suppressed, line, lines): MqttUplink {
      // No log API on ThingsBoard: log lines go out as a telemetry value (docs/presets/thingsboard.md).
      return { topic: 'v1/devices/me/telemetry', payload: JSON.stringify({ log: Array.from({ length: lines }, () => line), ...(suppressed > 0 ? { logSuppressed: suppressed } : {}) }) };
    },
  };
}

/** `{"ts":…,"values":{"seq":N,"pad":"xx…"}}` of `size` bytes: the client-timestamp shape of the telemetry page. */
export function telemetryPayload(seq: number, tsMs: number, size: number): Buffer {
  return paddedJson(`{"ts":${Math.floor(tsMs)},"values":{"seq":${seq},"pad":"`, '"}}', size);
}

/** The offer or configuration a set of shared attributes makes (fw_* win: an assignment is pushed with all five). */
function fromShared(s: Record<string, unknown>): DeviceMessage | undefined {
  if (typeof s.fw_title === 'string' && typeof s.fw_version === 'string' && typeof s.fw_size === 'number') {
    const sha256 = s.fw_checksum_algorithm === 'SHA256' && typeof s.fw_checksum === 'string' ? s.fw_checksum : '';
    const artifact: OfferedArtifact = { name: `${s.fw_title}@${s.fw_version}`, kind: 'full', size: s.fw_size, sha256 };
    const offer: UpdateOffer = { campaign: artifact.name, release: s.fw_version, target: 'os', artifacts: [artifact] };
    return { kind: 'update', offer };
  }
  const version = s[CONFIG_VERSION_KEY];
  if (typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(s)) if (k !== CONFIG_VERSION_KEY && !k.startsWith('fw_')) values[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return { kind: 'config', change: { version, issuedAt: 0, values } };
}

const titleOf = (a: OfferedArtifact) => a.name.slice(0, a.name.lastIndexOf('@'));
const versionOf = (a: OfferedArtifact) => a.name.slice(a.name.lastIndexOf('@') + 1);
