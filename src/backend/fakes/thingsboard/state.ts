import { createHash, randomBytes } from 'node:crypto';
import { SeqTracker } from '../../telemetry-counts.js';

/**
 * What the ThingsBoard fake remembers: one device profile with its provisioning key and secret
 * (strategy "allow creating new devices"), devices with their access tokens, client and shared
 * attributes, OTA packages, and pending server-side RPCs. Names follow ThingsBoard's own model
 * (thingsboard/thingsboard: DeviceProfile, DeviceCredentials, OtaPackage, ToDeviceRpcRequest).
 *
 * Concurrency: the fake's event loop only.
 */

/** The `fw_state` values a device reports (OtaPackageUpdateStatus.java without the server-side QUEUED/INITIATED). */
export const FW_STATES = ['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED', 'FAILED'] as const;
export type FwState = (typeof FW_STATES)[number];

/** Shared attribute keys of a firmware assignment (OtaPackageKey.java / the OTA guide). */
export const FW_KEYS = ['fw_title', 'fw_version', 'fw_checksum', 'fw_checksum_algorithm', 'fw_size'] as const;

export interface OtaPackage {
  readonly title: string;
  readonly version: string;
  readonly bytes: Buffer;
  /** Hex SHA-256 of `bytes` (checksum algorithm SHA256, ThingsBoard's default). */
  readonly checksum: string;
}

export interface TbDeviceCounts {
  /** Telemetry publishes/posts accepted (any of the three JSON shapes). */
  telemetry: number;
  /** Accepted telemetry without a `seq` key (valid for ThingsBoard, not reconcilable). */
  telemetryWithoutSeq: number;
  /** Telemetry or attributes the platform refuses (not JSON, not an object/array of objects, bad values). */
  malformed: number;
  attributes: number;
  attributeRequests: number;
  /** fw_state values reported, by state. */
  fwStates: Record<string, number>;
  /** fw_state reports that do not follow DOWNLOADING → DOWNLOADED → VERIFIED → UPDATING → UPDATED|FAILED. */
  fwStateOutOfOrder: number;
  fwChunkRequests: number;
  fwBytes: number;
  /** Chunk requests without a firmware assigned, or with a bad chunk size (answered on v2/fw/error). */
  fwErrors: number;
  rpcSent: number;
  rpcReplies: number;
  /** Replies to an id that was never sent or already answered/expired (ThingsBoard drops them). */
  rpcUnknownReplies: number;
  rpcTimedOut: number;
  /** Publishes on a topic the device API does not have (ThingsBoard acks and drops them). */
  unknownTopics: number;
  /** HTTP device API requests answered 4xx. */
  httpErrors: number;
  /** Lines in telemetry `log` arrays (ThingsBoard has no log API; fleetsim's preset ships logs as telemetry). */
  logLines: number;
}

export interface TbDevice {
  readonly name: string;
  readonly token: string;
  provisions: number;
  readonly telemetry: SeqTracker;
  readonly client: Record<string, unknown>;
  readonly shared: Record<string, unknown>;
  /** Last fw_state reported and the title/version it was about. */
  fwState?: FwState;
  currentFw?: { title: string; version: string };
  /** Next server-side RPC id (ThingsBoard numbers them per device session; we per device). */
  nextRpcId: number;
  readonly pendingRpc: Map<number, { method: string; sentAt: number; timer: NodeJS.Timeout }>;
  readonly counts: TbDeviceCounts;
}

function freshCounts(): TbDeviceCounts {
  return {
    telemetry: 0, telemetryWithoutSeq: 0, malformed: 0, attributes: 0, attributeRequests: 0,
    fwStates: {}, fwStateOutOfOrder: 0, fwChunkRequests: 0, fwBytes: 0, fwErrors: 0,
    rpcSent: 0, rpcReplies: 0, rpcUnknownReplies: 0, rpcTimedOut: 0, unknownTopics: 0, httpErrors: 0, logLines: 0,
  };
}

/** Which fw_state may follow which (the order the OTA guide lists; FAILED may follow any, DOWNLOADING starts over). */
const NEXT_FW_STATE: Record<string, readonly string[]> = {
  none: ['DOWNLOADING', 'FAILED', 'UPDATED'],
  DOWNLOADING: ['DOWNLOADED', 'FAILED', 'DOWNLOADING'],
  DOWNLOADED: ['VERIFIED', 'FAILED'],
  VERIFIED: ['UPDATING', 'FAILED'],
  UPDATING: ['UPDATED', 'FAILED'],
  UPDATED: ['DOWNLOADING', 'UPDATED'],
  FAILED: ['DOWNLOADING', 'FAILED', 'UPDATED'],
};

/** Provisioning answer as JsonConverter.toJson(ProvisionDeviceResponseMsg) writes it. */
export type ProvisionAnswer =
  | { status: 'SUCCESS'; credentialsType: 'ACCESS_TOKEN'; credentialsValue: string }
  | { status: 'NOT_FOUND'; errorMsg: 'Provision data was not found!' }
  | { status: 'FAILURE'; errorMsg: 'Failed to provision device!' };

export class ThingsboardState {
  readonly devices = new Map<string, TbDevice>();
  readonly byToken = new Map<string, TbDevice>();
  readonly packages = new Map<string, OtaPackage>();
  /** The device profile's assigned firmware: its fw_* shared attributes are every device's, later ones included. */
  profileFirmware: OtaPackage | undefined;
  /** MQTT CONNECTs refused for a bad or unknown token (CONNACK 5). */
  refusedConnects = 0;
  /** Provisioning requests answered NOT_FOUND or FAILURE. */
  provisionRefusals = { NOT_FOUND: 0, FAILURE: 0 };

  constructor(
    readonly provisionKey: string,
    readonly provisionSecret: string,
  ) {}

  /**
   * DeviceProvisionServiceImpl.provisionDevice for the ALLOW_CREATE_NEW_DEVICES strategy: empty or
   * unknown key/secret is NOT_FOUND, an existing device name is FAILURE, else a new device with a
   * generated access token. A missing name gets a generated one, as the platform does.
   */
  provision(req: { deviceName?: unknown; provisionDeviceKey?: unknown; provisionDeviceSecret?: unknown }): ProvisionAnswer {
    const key = typeof req.provisionDeviceKey === 'string' ? req.provisionDeviceKey : '';
    const secret = typeof req.provisionDeviceSecret === 'string' ? req.provisionDeviceSecret : '';
    let name = typeof req.deviceName === 'string' ? req.deviceName.trim() : undefined;
    if (req.deviceName !== undefined && !name) return this.refuse('FAILURE');
    if (key === '' || secret === '' || key !== this.provisionKey || secret !== this.provisionSecret) return this.refuse('NOT_FOUND');
    name ??= randomBytes(8).toString('hex');
    const existing = this.devices.get(name);
    if (existing) {
      existing.provisions++;
      return this.refuse('FAILURE');
    }
    const dev = this.create(name);
    dev.provisions++;
    return { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: dev.token };
  }

  private refuse(status: 'NOT_FOUND' | 'FAILURE'): ProvisionAnswer {
    this.provisionRefusals[status]++;
    return status === 'NOT_FOUND' ? { status, errorMsg: 'Provision data was not found!' } : { status, errorMsg: 'Failed to provision device!' };
  }

  /** A device created by the tenant (UI/REST) with a generated 20-character access token, as the platform makes them. */
  create(name: string): TbDevice {
    const token = randomBytes(15).toString('base64url');
    const dev: TbDevice = {
      name, token, provisions: 0, telemetry: new SeqTracker(), client: {}, shared: {},
      nextRpcId: 1, pendingRpc: new Map(), counts: freshCounts(),
    };
    if (this.profileFirmware) Object.assign(dev.shared, ThingsboardState.fwAttributes(this.profileFirmware));
    this.devices.set(name, dev);
    this.byToken.set(token, dev);
    return dev;
  }

  addPackage(title: string, version: string, bytes: Buffer): OtaPackage {
    const p: OtaPackage = { title, version, bytes, checksum: createHash('sha256').update(bytes).digest('hex') };
    this.packages.set(`${title}@${version}`, p);
    return p;
  }

  /** The firmware assigned to `dev` through its fw_* shared attributes, if any. */
  assignedPackage(dev: TbDevice): OtaPackage | undefined {
    const t = dev.shared.fw_title;
    const v = dev.shared.fw_version;
    return typeof t === 'string' && typeof v === 'string' ? this.packages.get(`${t}@${v}`) : undefined;
  }

  /** Shared attributes that assign `pkg` (what the platform sets when a device or its profile gets a firmware). */
  static fwAttributes(pkg: OtaPackage): Record<string, unknown> {
    return { fw_title: pkg.title, fw_version: pkg.version, fw_checksum: pkg.checksum, fw_checksum_algorithm: 'SHA256', fw_size: pkg.bytes.length };
  }

  /** Records a reported fw_state, counting one that breaks the documented order. */
  recordFwState(dev: TbDevice, state: string): void {
    dev.counts.fwStates[state] = (dev.counts.fwStates[state] ?? 0) + 1;
    if (!(FW_STATES as readonly string[]).includes(state) || !NEXT_FW_STATE[dev.fwState ?? 'none'].includes(state)) dev.counts.fwStateOutOfOrder++;
    if ((FW_STATES as readonly string[]).includes(state)) dev.fwState = state as FwState;
  }

  /** Devices per firmware version they last reported running (`current_fw_version`, else none). */
  versions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.devices.values()) {
      const v = d.currentFw?.version ?? 'unknown';
      out[v] = (out[v] ?? 0) + 1;
    }
    return out;
  }
}
