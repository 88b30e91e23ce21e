import type { CampaignSpec, CampaignStatus, ProvisioningPolicy, ReleaseSpec } from '../../../wire/fleet-ops.js';
import { campaignStatus, platformStats, releaseBytes, type PlatformControl } from '../control-plane.js';
import type { BalenaState } from './state.js';

/** balena release statuses on a device → fleetsim's update statuses (what a campaign status counts). */
const AS_FLEETSIM: Record<string, string | undefined> = {
  downloading: 'downloading',
  downloaded: 'downloaded',
  'applying changes': 'installing',
  done: 'success',
  aborted: 'failed',
  rejected: 'failed',
};

/**
 * The operator plan played on the balena fake: a release becomes a balena release of one service
 * whose image is the release's size (what `balena push` builds), and a campaign pins the fleet
 * to it (`should_be_running__release`), which every device of the fleet, later ones included,
 * finds in its target state. Provisioning policies do not apply: a provisioning key registers
 * devices at once, balena has no approval step.
 */
export class BalenaControl implements PlatformControl {
  private readonly campaigns = new Map<string, string>();

  constructor(private readonly state: BalenaState) {}

  setProvisioning(_policy: ProvisioningPolicy): void {}

  addRelease(spec: ReleaseSpec): void {
    this.state.addRelease(spec.name, releaseBytes(spec.name, spec.size));
  }

  startCampaign(spec: CampaignSpec): string {
    const r = this.state.releaseByName(spec.release);
    if (r === undefined) throw new Error(`no release ${spec.release}`);
    this.state.pinned = r;
    this.campaigns.set(r.commit, r.name);
    return r.commit;
  }

  campaign(id: string): CampaignStatus | undefined {
    const release = this.campaigns.get(id);
    if (release === undefined) return undefined;
    const statuses: Record<string, number> = {};
    for (const [s, n] of Object.entries(this.state.releaseStats(id))) {
      const f = AS_FLEETSIM[s];
      if (f !== undefined) statuses[f] = (statuses[f] ?? 0) + n;
    }
    return campaignStatus(id, release, statuses, this.state.devices.size);
  }

  stats() {
    const bytesByDevice: Record<string, number> = {};
    const versions: Record<string, number> = {};
    let reports = 0;
    let requests = 0;
    let logLines = 0;
    let notices = 0;
    for (const d of this.state.devices.values()) {
      if (d.counts.blobBytes > 0) bytesByDevice[d.uuid] = d.counts.blobBytes;
      reports += d.counts.stateReports;
      requests += d.counts.rangeRequests;
      logLines += d.counts.logLines;
      notices += d.counts.suppressedNotices;
      const v = d.runningCommit === undefined ? undefined : this.state.releases.get(d.runningCommit)?.name;
      if (v !== undefined) versions[v] = (versions[v] ?? 0) + 1;
    }
    // Log lines as the reference backend counts them: the suppression notices apart.
    return { ...platformStats({ artifactRequests: requests, bytesByDevice, stateReports: reports, versions, pending: 0, approved: this.state.devices.size }), logLines: logLines - notices, logSuppressedNotices: notices };
  }
}
