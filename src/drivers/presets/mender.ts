import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { ArtifactCheck, DeviceCredentials, HttpRequestSpec, Preset, PresetSettings, TargetAnswer } from '../preset.js';
import type { DeviceStateReport } from '../events.js';

import { FLEETSIM_MENDER_BASE_ARTIFACT, FLEETSIM_MENDER_DEVICE_TYPE, MenderArtifactCheck, ROOTFS_IMAGE } from '../../wire/mender-artifact.js';
import { HTTP_ONLY_MQTT } from './http-only.js';

/**
 * The `mender` preset: a device as Mender client 3.x drives the platform's device API
 * (docs.mender.io/api, device APIs of deviceauth, inventory and deployments; the client's own
 * requests in mendersoftware/mender 3.4.0 client/). Sources are cited per endpoint in
 * docs/presets/mender.md.
 *
 * - Authentication: `POST /api/devices/v1/authentication/auth_requests` with `{id_data, pubkey,
 *   tenant_token}` signed with the device's own key (`X-MEN-Signature`: ECDSA P-256 over SHA-256,
 *   ASN.1 DER, base64). 401 means pending (not yet accepted): asked again later. 200 is the JWT.
 *   Any 401 on another route makes the device authenticate again before its next request.
 * - Telemetry is inventory: `PUT /api/devices/v1/inventory/device/attributes`, with the
 *   sequence number in the `fleetsim_seq` attribute so the fake can reconcile per device.
 * - Poll: `GET …/deployments/device/deployments/next?artifact_name=&device_type=` (204: nothing).
 * - Download: the URI of the answer, as is (the platform hands out a signed link); the size comes
 *   from the download itself and the artifact is checked by its manifest digests as it streams.
 * - Install: as the artifact's payload type says, not as the answer says (it does not): a
 *   `rootfs-image` reboots the device (and reboots it again to roll back); an update module the
 *   client ships (single-file, directory, docker, deb, rpm, script) answers NeedsArtifactReboot
 *   "No" or nothing, so the device does not reboot (mender 3.4.0 installer/modules.go,
 *   support/modules/*, Documentation/update-modules-v3-file-api.md).
 * - Status: `PUT …/deployments/{id}/status` (downloading, installing, rebooting only when the
 *   device reboots, success, failure); on failure the deployment log follows (`PUT …/{id}/log`),
 *   as the client does.
 *
 * Keys: one EC P-256 key pair per device, made when the device first authenticates and kept,
 * with its signed request, for every later authentication (a P-256 key takes ~0.1 ms; the
 * client's default RSA 3072 would take ~100 ms and cap the provisioning rate).
 */

export interface MenderPresetOptions {
  /** `device_type` the devices report (default `fleetsim-device`). */
  deviceType?: string;
  /** Artifact the devices run before any update (default `fleetsim-base`). */
  artifactName?: string;
}

const AUTH_PATH = '/api/devices/v1/authentication/auth_requests';
const INVENTORY_PATH = '/api/devices/v1/inventory/device/attributes';
const DEPLOYMENTS = '/api/devices/v1/deployments/device/deployments/';
/** Inventory attribute carrying the telemetry sequence number (the fake's INVENTORY_SEQ). */
export const MENDER_SEQ_ATTRIBUTE = 'fleetsim_seq';

/** fleetsim's OTA steps → Mender deployment statuses (deployments devices_api.yml DeploymentStatus); undefined: no request. */
const STATUS: Record<string, string | undefined> = {
  downloading: 'downloading',
  downloaded: undefined,
  verifying: undefined,
  installing: 'installing',
  rebooting: 'rebooting',
  success: 'success',
  failed: 'failure',
  'rolled-back': 'failure',
};

/**
 * Payload types whose install reboots the device. Mender client 3.4 installs `rootfs-image` itself
 * (installer/dual_rootfs_device.go: NeedsReboot is RebootRequired); client 4 and later through the
 * rootfs-image module, which answers NeedsArtifactReboot "Automatic". Every update module the
 * client ships answers "No" or nothing (the default, no reboot). The client reboots when at least
 * one payload asks (app/state.go, updateInstallState).
 */
const REBOOTING_PAYLOADS: ReadonlySet<string> = new Set([ROOTFS_IMAGE]);

/** The manifest check of a Mender artifact, which also reads from its header what the install replaces. */
class MenderInstallCheck implements ArtifactCheck {
  private readonly check = new MenderArtifactCheck();
  push(chunk: Buffer): void {
    this.check.push(chunk);
  }
  finish(): { ok: boolean; target?: 'app' | 'os' } {
    const r = this.check.finish();
    if (!r.ok) return { ok: false };
    return { ok: true, target: r.payloadTypes.some((t) => REBOOTING_PAYLOADS.has(t)) ? 'os' : 'app' };
  }
}

interface SignedAuth {
  body: string;
  signature: string;
}

export function menderPreset(settings: PresetSettings, options: MenderPresetOptions = {}): Preset {
  const deviceType = options.deviceType ?? FLEETSIM_MENDER_DEVICE_TYPE;
  const baseArtifact = options.artifactName ?? FLEETSIM_MENDER_BASE_ARTIFACT;
  const tenantToken = settings.fleetKey;
  /** Per serial: the auth request, signed once with the device's own key. */
  const signed = new Map<string, SignedAuth>();

  const authRequest = (serial: string): HttpRequestSpec => {
    let s = signed.get(serial);
    if (s === undefined) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const body = JSON.stringify({
        id_data: JSON.stringify({ mac: macOf(serial), sn: serial }),
        pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        tenant_token: tenantToken,
      });
      s = { body, signature: sign('sha256', Buffer.from(body), privateKey).toString('base64') };
      signed.set(serial, s);
    }
    return { method: 'POST', path: AUTH_PATH, body: s.body, headers: ['x-men-signature', s.signature], authorization: `Bearer ${tenantToken}` };
  };

  return {
    name: 'mender',
    session: 'none',
    provisionPendingStatuses: [401],
    unchangedStatuses: [204],
    updateGoneStatuses: [409],
    provisionRequest: authRequest,
    decodeProvision: decodeToken,
    reauthStatuses: [401],
    reauthRequest: (_creds, serial) => authRequest(serial),
    decodeReauth: (body) => decodeToken(body),
    authorization: (creds) => `Bearer ${creds.secret}`,
    telemetryRequest(_creds, seq, tsMs, release) {
      const attrs = [
        { name: 'device_type', value: deviceType },
        { name: 'artifact_name', value: release ?? baseArtifact },
        { name: MENDER_SEQ_ATTRIBUTE, value: seq },
        { name: 'fleetsim_ts', value: tsMs },
      ];
      return { method: 'PUT', path: INVENTORY_PATH, body: JSON.stringify(attrs) };
    },
    pollRequest: (_creds, release) => ({
      method: 'GET',
      path: `${DEPLOYMENTS}next?artifact_name=${encodeURIComponent(release ?? baseArtifact)}&device_type=${encodeURIComponent(deviceType)}`,
    }),
    decodePoll,
    stateReport(_creds, report: DeviceStateReport) {
      const status = STATUS[report.status];
      if (status === undefined || report.campaign === undefined) return undefined;
      const put: HttpRequestSpec = { method: 'PUT', path: `${DEPLOYMENTS}${encodeURIComponent(report.campaign)}/status`, body: JSON.stringify({ status }) };
      if (status !== 'failure') return put;
      const log = { messages: [{ timestamp: new Date().toISOString(), level: 'error', message: `update failed: ${report.cause ?? 'unknown'}` }] };
      return [put, { method: 'PUT', path: `${DEPLOYMENTS}${encodeURIComponent(report.campaign)}/log`, body: JSON.stringify(log) }];
    },
    artifactRequest: (_creds, artifact) => ({ method: 'GET', path: artifact.url ?? artifact.name}),
    artifactCheck: () => new MenderInstallCheck(),
    // No MQTT session with the platform (session 'none'): the preset interface's MQTT members, inert.
    ...HTTP_ONLY_MQTT,
  };
}

/** The JWT body of a 200 to auth_requests, as credentials (`sub` is the device id). */
function decodeToken(body: string): DeviceCredentials | undefined {
  const token = body.trim();
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' ? { deviceId: claims.sub, secret: token } : undefined;
  } catch {
    return undefined;
  }
}

function decodePoll(body: string): TargetAnswer | undefined {
  let d: { id?: unknown; artifact?: { artifact_name?: unknown; source?: { uri?: unknown }; device_types_compatible?: unknown } };
  try {
    d = JSON.parse(body) as typeof d;
  } catch {
    return undefined;
  }
  const a = d?.artifact;
  if (typeof d?.id !== 'string' || typeof a?.artifact_name !== 'string' || typeof a.source?.uri !== 'string' || !Array.isArray(a.device_types_compatible)) return undefined;
  return {
    changed: true,
    update: {
      campaign: d.id,
      release: a.artifact_name,
      // Provisional: the answer does not say what the artifact replaces; its header does, and the
      // artifact check tells the device once the download is checked (MenderInstallCheck).
      target: 'app',
      // Size and digest are not in the API: learned from the download and the artifact's manifest.
      artifacts: [{ name: a.artifact_name, url: a.source.uri, kind: 'full', size: 0, sha256: '' }],
    },
  };
}

/** A locally administered MAC address derived from the serial (stable across runs). */
function macOf(serial: string): string {
  const h = createHash('sha256').update(serial).digest();
  h[0] = (h[0] & 0xfc) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
