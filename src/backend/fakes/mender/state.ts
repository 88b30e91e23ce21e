import { createHash, randomUUID } from 'node:crypto';
import { SeqTracker } from '../../telemetry-counts.js';
import { inspectMenderArtifact } from '../../../wire/mender-artifact.js';

/**
 * What the Mender fake remembers: devices (one auth set per identity and key), their inventory,
 * uploaded artifacts, deployments and each device's deployment, and what it received per device.
 *
 * Concurrency: the fake's event loop only.
 */

/** Deployment statuses a device may report (deployments docs/devices_api.yml, DeploymentStatus). */
export const DEVICE_STATUSES = new Set([
  'installing',
  'pause_before_installing',
  'downloading',
  'pause_before_rebooting',
  'rebooting',
  'pause_before_committing',
  'success',
  'failure',
  'already-installed',
]);
const FINAL = new Set(['success', 'failure', 'already-installed', 'aborted', 'noartifact', 'decommissioned']);

export interface MenderDeviceCounts {
  authRequests: number;
  /** Auth requests answered with a token. */
  tokens: number;
  /** Auth requests answered 401 while pending (or rejected). */
  pendingAnswers: number;
  inventoryUpdates: number;
  polls: number;
  statusReports: Record<string, number>;
  logUploads: number;
  artifactBytes: number;
  /** Requests the fake refused as malformed (400) for this device. */
  badRequests: number;
  /** Requests with an expired or unknown token (401). */
  unauthorized: number;
}

export interface MenderDevice {
  readonly id: string;
  readonly idData: string;
  pubkeyPem: string;
  status: 'pending' | 'accepted' | 'rejected';
  readonly firstSeenMs: number;
  /** Times the device was admitted (1 for a device accepted once). */
  admissions: number;
  inventory: Map<string, unknown>;
  readonly counts: MenderDeviceCounts;
  /** Telemetry sequence numbers carried in inventory (attribute INVENTORY_SEQ), for reconciliation. */
  readonly seq: SeqTracker;
  readonly deployments: Map<string, DeviceDeployment>;
}

export interface DeviceDeployment {
  status: string;
  finished: boolean;
  log?: Array<{ timestamp: string; level: string; message: string }>;
}

export interface MenderArtifact {
  readonly id: string;
  readonly name: string;
  readonly deviceTypes: readonly string[];
  /**
   * Payload types from the artifact's header-info (`rootfs-image`, or an update module's type), as
   * the platform reads them on upload. Devices are not told: deployments/next has no such field
   * (deployments docs/devices_api.yml, DeploymentInstructions); the client reads the header.
   */
  readonly payloadTypes: readonly string[];
  readonly bytes: Buffer;
  readonly sha256: string;
}

export interface MenderDeployment {
  readonly id: string;
  readonly name: string;
  readonly artifactName: string;
  /** Device ids, or undefined for every device. */
  readonly devices: ReadonlySet<string> | undefined;
  readonly createdMs: number;
  status: 'inprogress' | 'finished' | 'aborted';
}

/** The inventory attribute a fleetsim device carries its telemetry sequence number in. */
export const INVENTORY_SEQ = 'fleetsim_seq';

export class MenderState {
  readonly devices = new Map<string, MenderDevice>();
  /** Auth sets by identity and key. */
  private readonly byIdentity = new Map<string, MenderDevice>();
  readonly artifacts = new Map<string, MenderArtifact>();
  private readonly artifactsByName = new Map<string, MenderArtifact>();
  readonly deployments: MenderDeployment[] = [];
  /** Artifact download requests answered. */
  artifactRequests = 0;

  constructor(readonly admission: { autoAccept: boolean; acceptAfterMs: number }) {}

  /** The device of this identity and key, created pending (or accepted, per the admission policy). */
  deviceFor(idData: string, pubkeyPem: string, nowMs: number): MenderDevice {
    const key = idData + '\n' + pubkeyPem;
    let d = this.byIdentity.get(key);
    if (d === undefined) {
      const id = createHash('sha256').update(key).digest('hex').slice(0, 24);
      d = {
        id,
        idData,
        pubkeyPem,
        status: 'pending',
        firstSeenMs: nowMs,
        admissions: 0,
        inventory: new Map(),
        counts: { authRequests: 0, tokens: 0, pendingAnswers: 0, inventoryUpdates: 0, polls: 0, statusReports: {}, logUploads: 0, artifactBytes: 0, badRequests: 0, unauthorized: 0 },
        seq: new SeqTracker(),
        deployments: new Map(),
      };
      this.byIdentity.set(key, d);
      this.devices.set(id, d);
    }
    if (d.status === 'pending' && this.admission.autoAccept && nowMs - d.firstSeenMs >= this.admission.acceptAfterMs) this.accept(d.id);
    return d;
  }

  accept(deviceId: string): boolean {
    const d = this.devices.get(deviceId);
    if (d === undefined || d.status === 'accepted') return false;
    d.status = 'accepted';
    d.admissions++;
    return true;
  }

  reject(deviceId: string): boolean {
    const d = this.devices.get(deviceId);
    if (d === undefined) return false;
    d.status = 'rejected';
    return true;
  }

  /** Stores an artifact after reading its header, as the platform does on upload. Throws when it is not an artifact. */
  upload(bytes: Buffer): MenderArtifact {
    const info = inspectMenderArtifact(bytes);
    if (!info.ok) throw new Error(`not a valid Mender artifact: ${info.error}`);
    const a: MenderArtifact = { id: randomUUID(), name: info.name, deviceTypes: info.deviceTypes, payloadTypes: info.payloadTypes, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    this.artifacts.set(a.id, a);
    this.artifactsByName.set(a.name, a);
    return a;
  }

  /** A deployment of the artifact called `artifactName` to `devices` (all devices when absent). */
  deploy(name: string, artifactName: string, devices: Iterable<string> | undefined, nowMs: number): MenderDeployment {
    if (!this.artifactsByName.has(artifactName)) throw new Error(`no artifact named ${artifactName}`);
    const dep: MenderDeployment = { id: randomUUID(), name, artifactName, devices: devices === undefined ? undefined : new Set(devices), createdMs: nowMs, status: 'inprogress' };
    this.deployments.push(dep);
    return dep;
  }

  abort(deploymentId: string): boolean {
    const dep = this.deployments.find((d) => d.id === deploymentId);
    if (dep === undefined || dep.status !== 'inprogress') return false;
    dep.status = 'aborted';
    for (const d of this.devices.values()) {
      const dd = d.deployments.get(deploymentId);
      if (dd !== undefined && !dd.finished) {
        dd.status = 'aborted';
        dd.finished = true;
      }
    }
    return true;
  }

  /**
   * The deployment a device polling with `artifactName` and `deviceType` should install, or
   * undefined (204). Like the platform, a device that already runs the artifact gets its device
   * deployment closed as `already-installed`, and one whose type the artifact does not support as
   * `noartifact`.
   */
  nextFor(d: MenderDevice, artifactName: string, deviceType: string): { dep: MenderDeployment; artifact: MenderArtifact } | undefined {
    for (const dep of this.deployments) {
      if (dep.status !== 'inprogress' || (dep.devices !== undefined && !dep.devices.has(d.id))) continue;
      let dd = d.deployments.get(dep.id);
      if (dd?.finished) continue;
      const artifact = this.artifactsByName.get(dep.artifactName)!;
      if (dd === undefined) {
        dd = { status: 'pending', finished: false };
        d.deployments.set(dep.id, dd);
      }
      if (artifact.name === artifactName) {
        dd.status = 'already-installed';
        dd.finished = true;
        continue;
      }
      if (!artifact.deviceTypes.includes(deviceType)) {
        dd.status = 'noartifact';
        dd.finished = true;
        continue;
      }
      return { dep, artifact };
    }
    return undefined;
  }

  /** Applies a status report; 'aborted' when the deployment was aborted (the API answers 409). */
  report(d: MenderDevice, deploymentId: string, status: string): 'ok' | 'aborted' | 'unknown' {
    const dd = d.deployments.get(deploymentId);
    if (dd === undefined) return 'unknown';
    if (dd.status === 'aborted' || dd.status === 'decommissioned') return 'aborted';
    d.counts.statusReports[status] = (d.counts.statusReports[status] ?? 0) + 1;
    // A final status stays final; later reports are counted and change nothing.
    if (!dd.finished) {
      dd.status = status;
      dd.finished = FINAL.has(status);
    }
    return 'ok';
  }

  /** Device deployments by status, for one deployment. */
  deploymentStats(deploymentId: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.devices.values()) {
      const dd = d.deployments.get(deploymentId);
      if (dd !== undefined) out[dd.status] = (out[dd.status] ?? 0) + 1;
    }
    return out;
  }
}
