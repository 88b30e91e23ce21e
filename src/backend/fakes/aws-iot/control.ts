import { createHash } from 'node:crypto';
import type { CampaignSpec, CampaignStatus, FleetOpsStats, ProvisioningPolicy, ReleaseSpec } from '../../../wire/fleet-ops.js';
import { campaignStatus, platformStats, releaseBytes, type PlatformControl } from '../control-plane.js';
import type { AwsIotState } from './state.js';

/** fleetsim's update statuses from a job execution's status and its `step` status detail. */
function asFleetsim(status: string, step: string | undefined): string | undefined {
  if (status === 'SUCCEEDED') return 'success';
  if (status === 'FAILED' || status === 'REJECTED' || status === 'TIMED_OUT') return 'failed';
  if (status === 'IN_PROGRESS') return step ?? 'downloading';
  return undefined;
}

/** The file of a release: where the job document points, its bytes and digest. */
export interface ReleaseFile {
  readonly key: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

/**
 * The operator plan played on the AWS IoT fake: a release becomes an S3-style object and a job
 * document naming it by a presigned-URL placeholder; a campaign becomes a continuous job on every
 * thing (things provisioned later get it too, as a job on a dynamic thing group would). This is
 * fleetsim's operator API, not AWS's control plane (CreateJob), which the fake does not serve.
 *
 * Concurrency: the fake's event loop only.
 */
export class AwsIotControl implements PlatformControl {
  readonly files = new Map<string, ReleaseFile>();
  private readonly documents = new Map<string, string>();
  private readonly campaignRelease = new Map<string, string>();
  private jobSeq = 0;

  constructor(
    private readonly state: AwsIotState,
    /** Called after a job was queued on things: notify those with a session. */
    private readonly queued: (things: Iterable<string>) => void,
  ) {}

  setProvisioning(_policy: ProvisioningPolicy): void {
    // Fleet provisioning by claim admits every device whose claim certificate is active: no approval step.
  }

  addRelease(spec: ReleaseSpec): void {
    const bytes = releaseBytes(spec.name, spec.size);
    const key = `releases/${spec.name}.bin`;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.files.set(key, { key, bytes, sha256 });
    this.documents.set(spec.name, jobDocument(spec.name, spec.target, key, bytes.length, sha256));
  }

  startCampaign(spec: CampaignSpec): string {
    const document = this.documents.get(spec.release);
    if (document === undefined) throw new Error(`unknown release ${spec.release}`);
    return this.createJob(`fleetsim-${spec.release.replace(/[^a-zA-Z0-9_-]/g, '_')}-${++this.jobSeq}`, document, spec.release);
  }

  /** Creates a job for every thing (now and later) and notifies the things; returns its id. */
  createJob(jobId: string, document: string, release = ''): string {
    const now = Date.now();
    this.state.jobs.set(jobId, { jobId, document, createdAt: now });
    this.state.fleetJobs.push(jobId);
    this.campaignRelease.set(jobId, release);
    const fresh: string[] = [];
    for (const thing of this.state.things.values()) {
      const first = this.state.nextPending(thing);
      if (this.state.queue(thing, jobId, now) && this.state.nextPending(thing) !== first) fresh.push(thing.name);
    }
    this.queued(fresh);
    return jobId;
  }

  campaign(id: string): CampaignStatus | undefined {
    const release = this.campaignRelease.get(id);
    if (release === undefined) return undefined;
    const statuses: Record<string, number> = {};
    for (const thing of this.state.things.values()) {
      const e = thing.executions.get(id);
      const s = e === undefined ? undefined : asFleetsim(e.status, e.statusDetails.step);
      if (s !== undefined) statuses[s] = (statuses[s] ?? 0) + 1;
    }
    return campaignStatus(id, release, statuses, this.state.things.size);
  }

  stats(): FleetOpsStats {
    const bytesByDevice: Record<string, number> = {};
    const versions: Record<string, number> = {};
    let reports = 0;
    let requests = 0;
    for (const t of this.state.things.values()) {
      if (t.counts.artifactBytes > 0) bytesByDevice[t.name] = t.counts.artifactBytes;
      requests += t.counts.artifactRequests;
      for (const n of Object.values(t.counts.jobUpdates)) reports += n;
      const v = t.shadow.reported.release;
      if (typeof v === 'string') versions[v] = (versions[v] ?? 0) + 1;
    }
    return platformStats({ artifactRequests: requests, bytesByDevice, stateReports: reports, versions, pending: 0, approved: 0 });
  }
}

/**
 * fleetsim's job document: AWS job documents are free-form JSON the device interprets; this one
 * names the release, whether it restarts the app or the OS, and its file by a presigned-URL
 * placeholder with size and SHA-256 (docs/presets/aws-iot.md, "Job document").
 */
export function jobDocument(release: string, target: string, key: string, size: number, sha256: string): string {
  return JSON.stringify({
    operation: 'fleetsim-update',
    release,
    target,
    files: [{ fileName: key.slice(key.lastIndexOf('/') + 1), url: `\${aws:iot:s3-presigned-url:${key}}`, size, sha256 }],
  });
}
