import type { CampaignStatus, ProvisioningPolicy, ReleaseSpec } from '../../../wire/fleet-ops.js';
import { buildMenderArtifact, FLEETSIM_MENDER_DEVICE_TYPE, ROOTFS_IMAGE } from '../../../wire/mender-artifact.js';
import { campaignStatus, platformStats, releaseBytes, type PlatformControl } from '../control-plane.js';
import type { MenderState } from './state.js';

/** Mender deployment statuses → fleetsim's update statuses (what a campaign status counts). */
const AS_FLEETSIM: Record<string, string | undefined> = {
  downloading: 'downloading',
  installing: 'installing',
  rebooting: 'rebooting',
  success: 'success',
  'already-installed': 'success',
  failure: 'failed',
  noartifact: 'failed',
  aborted: 'failed',
};

/**
 * The operator plan played on the Mender fake: a release becomes an artifact built as
 * mender-artifact builds it (an OS release a `rootfs-image` of the release's size; an application
 * release a `single-file` module-image, laid out as the client's single-file-artifact-gen does), a
 * campaign a deployment to every device, a manual provisioning policy an operator accepting
 * pending devices at its rate.
 */
export class MenderControl implements PlatformControl {
  private readonly releases = new Map<string, string>();
  private readonly campaignRelease = new Map<string, string>();
  private approvalTimer: NodeJS.Timeout | undefined;

  constructor(private readonly state: MenderState) {}

  setProvisioning(policy: ProvisioningPolicy): void {
    this.state.admission.autoAccept = policy.mode === 'auto';
    if (policy.mode !== 'manual' || !policy.approvalRatePerSec) return;
    const perTick = policy.approvalRatePerSec / 10;
    let budget = 0;
    clearInterval(this.approvalTimer);
    this.approvalTimer = setInterval(() => {
      budget += perTick;
      for (const d of this.state.devices.values()) {
        if (budget < 1) break;
        if (d.status === 'pending' && this.state.accept(d.id)) budget--;
      }
      budget = Math.min(budget, perTick * 10);
    }, 100);
    this.approvalTimer.unref();
  }

  addRelease(spec: ReleaseSpec): void {
    const data = releaseBytes(spec.name, spec.size);
    const deviceTypes = [FLEETSIM_MENDER_DEVICE_TYPE];
    const bytes =
      spec.target === 'os'
        ? buildMenderArtifact({ name: spec.name, deviceTypes, payloadType: ROOTFS_IMAGE, files: [{ name: 'rootfs.ext4', data }] })
        : buildMenderArtifact({ name: spec.name, deviceTypes, payloadType: 'single-file', files: singleFile(data) });
    this.state.upload(bytes);
    this.releases.set(spec.name, spec.name);
  }

  startCampaign(spec: { release: string }): string {
    const dep = this.state.deploy(spec.release, spec.release, undefined, Date.now());
    this.campaignRelease.set(dep.id, spec.release);
    return dep.id;
  }

  campaign(id: string): CampaignStatus | undefined {
    const release = this.campaignRelease.get(id);
    if (release === undefined) return undefined;
    const statuses: Record<string, number> = {};
    for (const [s, n] of Object.entries(this.state.deploymentStats(id))) {
      const f = AS_FLEETSIM[s];
      if (f !== undefined) statuses[f] = (statuses[f] ?? 0) + n;
    }
    let accepted = 0;
    for (const d of this.state.devices.values()) if (d.status === 'accepted') accepted++;
    return campaignStatus(id, release, statuses, accepted);
  }

  stats() {
    const bytesByDevice: Record<string, number> = {};
    const versions: Record<string, number> = {};
    let reports = 0;
    let pending = 0;
    let approved = 0;
    for (const d of this.state.devices.values()) {
      if (d.counts.artifactBytes > 0) bytesByDevice[d.id] = d.counts.artifactBytes;
      for (const n of Object.values(d.counts.statusReports)) reports += n;
      const v = d.inventory.get('artifact_name');
      if (typeof v === 'string') versions[v] = (versions[v] ?? 0) + 1;
      if (d.status === 'pending') pending++;
      approved += d.admissions;
    }
    return platformStats({ artifactRequests: this.state.artifactRequests, bytesByDevice, stateReports: reports, versions, pending, approved });
  }

  close(): void {
    clearInterval(this.approvalTimer);
  }
}

/** The files of a single-file payload as single-file-artifact-gen writes them (mender 3.4.0 support/modules-artifact-gen). */
function singleFile(data: Buffer): Array<{ name: string; data: Buffer }> {
  return [
    { name: 'dest_dir', data: Buffer.from('/opt/fleetsim\n') },
    { name: 'filename', data: Buffer.from('app.bin\n') },
    { name: 'permissions', data: Buffer.from('644\n') },
    { name: 'app.bin', data },
  ];
}
