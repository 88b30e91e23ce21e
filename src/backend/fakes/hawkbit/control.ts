import type { CampaignSpec, CampaignStatus, ProvisioningPolicy, ReleaseSpec } from '../../../wire/fleet-ops.js';
import { campaignStatus, platformStats, releaseBytes, type PlatformControl } from '../control-plane.js';
import type { HawkbitState, MaintenanceSchedule } from './state.js';

/** hawkBit action statuses → fleetsim's update statuses. */
const AS_FLEETSIM: Record<string, string> = {
  running: 'downloading',
  downloaded: 'downloaded',
  canceling: 'downloading',
  canceled: 'failed',
  finished: 'success',
  error: 'failed',
};

/**
 * hawkBit's default software module types (org.eclipse.hawkbit.repository.Constants
 * SMT_DEFAULT_OS_KEY, SMT_DEFAULT_APP_KEY): a DDI chunk's `part` is its module's type key.
 */
const SMT_OS_KEY = 'os';
const SMT_APP_KEY = 'application';

/**
 * The operator plan played on the hawkBit fake: a release becomes a distribution set with one
 * software module (type `os`, or `application` for an app release) holding one artifact of the
 * release's size; a campaign assigns it to every
 * target, and (like a target filter with auto-assignment) to targets that register later, under
 * the fake's maintenance schedule when it has one. Provisioning policies do not apply: hawkBit
 * targets hold their tokens from the start.
 */
export class HawkbitControl implements PlatformControl {
  private readonly setOf = new Map<string, number>();
  private readonly campaigns = new Map<string, { release: string; dsId: number }>();

  constructor(
    private readonly state: HawkbitState,
    private readonly maintenance: (() => MaintenanceSchedule | undefined) | undefined,
  ) {}

  setProvisioning(_policy: ProvisioningPolicy): void {}

  addRelease(spec: ReleaseSpec): void {
    const part = spec.target === 'app' ? SMT_APP_KEY : SMT_OS_KEY;
    const ds = this.state.createSet(spec.name, spec.name, [{ part, name: spec.name, files: [{ filename: `${spec.name}.bin`, bytes: releaseBytes(spec.name, spec.size) }] }]);
    this.setOf.set(spec.name, ds.id);
  }

  startCampaign(spec: CampaignSpec): string {
    const dsId = this.setOf.get(spec.release);
    if (dsId === undefined) throw new Error(`no release ${spec.release}`);
    const m = this.maintenance?.();
    this.state.assign(dsId, [...this.state.targets.keys()], 'forced', m);
    this.state.autoAssign = { dsId, type: 'forced', maintenance: m };
    const id = `ds-${dsId}`;
    this.campaigns.set(id, { release: spec.release, dsId });
    return id;
  }

  campaign(id: string): CampaignStatus | undefined {
    const c = this.campaigns.get(id);
    if (c === undefined) return undefined;
    const statuses: Record<string, number> = {};
    let devices = 0;
    for (const [s, n] of Object.entries(this.state.actionStats(c.dsId))) {
      const f = AS_FLEETSIM[s] ?? s;
      statuses[f] = (statuses[f] ?? 0) + n;
      devices += n;
    }
    return campaignStatus(id, c.release, statuses, devices);
  }

  stats() {
    const bytesByDevice: Record<string, number> = {};
    const versions: Record<string, number> = {};
    let reports = 0;
    let requests = 0;
    for (const t of this.state.targets.values()) {
      if (t.counts.artifactBytes > 0) bytesByDevice[t.controllerId] = t.counts.artifactBytes;
      for (const n of Object.values(t.counts.feedback)) reports += n;
      requests += t.counts.rangeRequests;
      const v = t.installed?.ds.version;
      if (v !== undefined) versions[v] = (versions[v] ?? 0) + 1;
    }
    return platformStats({ artifactRequests: requests, bytesByDevice, stateReports: reports, versions, pending: 0, approved: this.state.targets.size });
  }
}
