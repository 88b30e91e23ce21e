import { createHash } from 'node:crypto';

/**
 * What the balena fake remembers: one fleet (balena's "application") with its provisioning key,
 * the releases pushed to it with their service images, the release the fleet is pinned to
 * (`should_be_running__release`), and the devices registered with it, each with its own API key,
 * the release it reports running, the `update_status` it last reported per release and what it
 * sent. Names follow balena's data model (open-balena-api src/balena.sbvr: device, application,
 * release, image, api_key).
 *
 * Concurrency: the fake's event loop only.
 */

/** The release statuses a device may report (open-balena-api state-patch-v3.ts, `update_status` enum). */
export const UPDATE_STATUSES = ['aborted', 'applying changes', 'done', 'downloaded', 'downloading', 'rejected'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

export interface BalenaImage {
  /** The image location a target state names (`<registry>/v2/<hash>@sha256:<digest>`). */
  readonly location: string;
  /** Registry repository name (the part between host and `@`). */
  readonly repository: string;
  /** `sha256:<hex>` of `bytes`: the blob digest the location pins. */
  readonly digest: string;
  readonly bytes: Buffer;
}

export interface BalenaService {
  readonly id: number;
  readonly imageId: number;
  readonly name: string;
  readonly image: BalenaImage;
  readonly labels: Readonly<Record<string, string>>;
}

export interface BalenaRelease {
  readonly id: number;
  /** 32 hex characters: the release's commit, its `uuid` in state v3. */
  readonly commit: string;
  /** The operator's name for it (a `release_version`-like label; fleetsim puts it in a service label). */
  readonly name: string;
  readonly services: readonly BalenaService[];
}

export interface BalenaDeviceCounts {
  registrations: number;
  polls: number;
  /** Polls answered 304 (If-None-Match matched). */
  notModified: number;
  /** State reports (PATCH /device/v3/state) accepted. */
  stateReports: number;
  /** Accepted reports by the `update_status` they carried for the fleet's app. */
  updateStatuses: Record<string, number>;
  logBatches: number;
  logLines: number;
  /** Log lines that were the supervisor's "Suppressed N message(s)" notice. */
  suppressedNotices: number;
  /** Log batches refused with 429 (the per-device batch rate). */
  rateLimited: number;
  blobBytes: number;
  rangeRequests: number;
  /** Requests refused as malformed (400) for this device. */
  badRequests: number;
  /** Requests with a missing, wrong or revoked key (401). */
  unauthorized: number;
}

export interface BalenaDevice {
  readonly id: number;
  readonly uuid: string;
  apiKey: string;
  readonly deviceType: string;
  readonly name: string;
  /** Commit the device last reported running (`release_uuid` of the fleet's app), if any. */
  runningCommit?: string;
  /** Last `update_status` reported per release commit. */
  readonly releaseStatus: Map<string, UpdateStatus>;
  /** Fields of the device resource the reports set (status, os_version, ip_address...). */
  readonly fields: Record<string, unknown>;
  readonly counts: BalenaDeviceCounts;
}

export interface BalenaFleet {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  readonly provisioningKey: string;
  /** Device type slugs the fleet accepts (balena checks the type exists and is compatible). */
  readonly deviceTypes: ReadonlySet<string>;
}

export class BalenaState {
  readonly devices = new Map<string, BalenaDevice>();
  readonly releases = new Map<string, BalenaRelease>();
  /** Blobs by `sha256:<hex>` (the fake's registry). */
  readonly blobs = new Map<string, BalenaImage>();
  /** The release every device of the fleet should run (the fleet's pin). */
  pinned: BalenaRelease | undefined;
  /** `BALENA_SUPERVISOR_POLL_INTERVAL` the target state carries, ms (undefined: not set). */
  pollIntervalMs: number | undefined;
  private readonly keys = new Set<string>();
  private nextId = 1;

  constructor(
    readonly fleet: BalenaFleet,
    /** Registry host:port the image locations name. */
    private readonly registryHost: () => string,
  ) {}

  /** A device registered with its own key; throws a typed conflict as the API answers 409. */
  register(uuid: string, apiKey: string, deviceType: string): BalenaDevice {
    if (this.devices.has(uuid)) throw new Conflict('"uuid" must be unique.');
    if (this.keys.has(apiKey)) throw new Conflict('"key" must be unique.');
    const id = this.nextId++;
    const d: BalenaDevice = {
      id,
      uuid,
      apiKey,
      deviceType,
      name: `device-${id}`,
      releaseStatus: new Map(),
      fields: {},
      counts: { registrations: 1, polls: 0, notModified: 0, stateReports: 0, updateStatuses: {}, logBatches: 0, logLines: 0, suppressedNotices: 0, rateLimited: 0, blobBytes: 0, rangeRequests: 0, badRequests: 0, unauthorized: 0 },
    };
    this.devices.set(uuid, d);
    this.keys.add(apiKey);
    return d;
  }

  /** The operator revokes a device's key (its later requests are answered 401). */
  revokeKey(uuid: string): boolean {
    const d = this.devices.get(uuid);
    if (d === undefined) return false;
    this.keys.delete(d.apiKey);
    d.apiKey = '';
    return true;
  }

  /** A release of one service (`main`) whose image is `bytes`, as `balena push` would create it. */
  addRelease(name: string, bytes: Buffer, serviceName = 'main'): BalenaRelease {
    const commit = createHash('sha256').update(`release:${name}`).digest('hex').slice(0, 32);
    const hex = createHash('sha256').update(bytes).digest('hex');
    const repository = `v2/${createHash('sha256').update(`image:${name}:${serviceName}`).digest('hex').slice(0, 32)}`;
    const image: BalenaImage = { location: `${this.registryHost()}/${repository}@sha256:${hex}`, repository, digest: `sha256:${hex}`, bytes };
    this.blobs.set(image.digest, image);
    const id = this.nextId++;
    const release: BalenaRelease = { id, commit, name, services: [{ id: this.nextId++, imageId: this.nextId++, name: serviceName, image, labels: { [RELEASE_LABEL]: name } }] };
    this.releases.set(commit, release);
    return release;
  }

  releaseByName(name: string): BalenaRelease | undefined {
    for (const r of this.releases.values()) if (r.name === name) return r;
    return undefined;
  }

  /** Devices by the status of `commit` on them: running it (done), its last reported update_status, or not started. */
  releaseStats(commit: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.devices.values()) {
      const s = d.runningCommit === commit ? 'done' : (d.releaseStatus.get(commit) ?? 'pending');
      out[s] = (out[s] ?? 0) + 1;
    }
    return out;
  }
}

/**
 * The service label carrying fleetsim's release name. Not a balena field: target state v3 names
 * a release by its commit only, so the fake labels the service (a docker-compose label, as
 * operators label their services) and the preset reads it back.
 */
export const RELEASE_LABEL = 'io.fleetsim.release';

/** A registration that collides with an existing uuid or key (the API's 409). */
export class Conflict extends Error {}
