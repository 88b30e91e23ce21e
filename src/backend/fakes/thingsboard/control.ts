import type { CampaignSpec, CampaignStatus, CommandRequest, CommandStatus, ProvisioningPolicy, ReleaseSpec } from '../../../wire/fleet-ops.js';
import { epochNow } from '../../fleet-ops.js';
import { campaignStatus, platformStats, releaseBytes, type PlatformControl } from '../control-plane.js';
import { ThingsboardState, type TbDevice } from './state.js';

/** fw_state values → fleetsim's update statuses (what a campaign status counts). */
const AS_FLEETSIM: Record<string, string> = {
  DOWNLOADING: 'downloading',
  DOWNLOADED: 'downloaded',
  VERIFIED: 'verifying',
  UPDATING: 'installing',
  UPDATED: 'success',
  FAILED: 'failed',
};

/** What the control plane needs of the fake: pushing shared attributes and server-side RPCs to live sessions. */
export interface TbPushes {
  /** Sets shared attributes of devices and pushes them to subscribed sessions; returns how many were pushed. */
  setShared(names: Iterable<string>, values: Record<string, unknown>): number;
  /** A two-way RPC to a device with a subscribed session; its id, or undefined when there is none. */
  sendRpc(name: string, method: string, params: unknown): number | undefined;
}

interface CommandRecord extends CommandStatus {
  issuedAt: number;
}

/**
 * The operator plan played on the ThingsBoard fake (what a tenant does in the UI or REST API):
 * a release becomes an OTA package (firmware, checksum SHA256); a campaign assigns it to the
 * device profile, which sets the `fw_*` shared attributes of every device of the profile (and of
 * devices provisioned later) and pushes them to their sessions; a command is a two-way
 * server-side RPC `{method: name, params: {issuedAt}}` to online devices. Provisioning policies
 * do not apply: the profile's "allow creating new devices" strategy admits any device that has
 * the key and secret.
 */
export class ThingsboardControl implements PlatformControl {
  private readonly packages = new Map<string, string>();
  private readonly campaigns = new Map<string, { release: string; version: string }>();
  private readonly commands = new Map<string, CommandRecord>();
  /** Pending RPCs that carry a command: device name and RPC id → command id. */
  private readonly rpcCommand = new Map<string, string>();

  constructor(
    private readonly state: ThingsboardState,
    private readonly push: TbPushes,
  ) {}

  setProvisioning(_policy: ProvisioningPolicy): void {}

  addRelease(spec: ReleaseSpec): void {
    const pkg = this.state.addPackage(spec.name, spec.name, releaseBytes(spec.name, spec.size));
    this.packages.set(spec.name, `${pkg.title}@${pkg.version}`);
  }

  startCampaign(spec: CampaignSpec): string {
    const key = this.packages.get(spec.release);
    const pkg = key === undefined ? undefined : this.state.packages.get(key);
    if (pkg === undefined) throw new Error(`no release ${spec.release}`);
    this.state.profileFirmware = pkg;
    this.push.setShared(this.state.devices.keys(), ThingsboardState.fwAttributes(pkg));
    const id = `fw-${pkg.title}@${pkg.version}`;
    this.campaigns.set(id, { release: spec.release, version: pkg.version });
    return id;
  }

  campaign(id: string): CampaignStatus | undefined {
    const c = this.campaigns.get(id);
    if (c === undefined) return undefined;
    const statuses: Record<string, number> = {};
    let devices = 0;
    for (const d of this.state.devices.values()) {
      if (d.shared.fw_version !== c.version) continue;
      devices++;
      const f = d.fwState === undefined ? 'notified' : AS_FLEETSIM[d.fwState];
      statuses[f] = (statuses[f] ?? 0) + 1;
    }
    return campaignStatus(id, c.release, statuses, devices);
  }

  sendCommand(req: CommandRequest): { id: string; issuedAt: number; sent: number } {
    const id = `rpc-${this.commands.size + 1}`;
    const issuedAt = epochNow();
    const names = [...this.state.devices.keys()].sort();
    const want = Math.ceil(names.length * Math.min(1, Math.max(0, req.fraction ?? 1)));
    let sent = 0;
    for (const name of names) {
      if (sent >= want) break;
      const rpcId = this.push.sendRpc(name, req.name, { issuedAt });
      if (rpcId === undefined) continue;
      this.rpcCommand.set(`${name}\n${rpcId}`, id);
      sent++;
    }
    this.commands.set(id, { id, name: req.name, issuedAt, sent, answered: 0, rttMs: [] });
    return { id, issuedAt, sent };
  }

  command(id: string): CommandStatus | undefined {
    const c = this.commands.get(id);
    return c && { id: c.id, name: c.name, sent: c.sent, answered: c.answered, rttMs: c.rttMs };
  }

  /** An RPC ended (the fake's hook): a reply in time counts for the command it carried, a timeout does not. */
  onRpcEnd(dev: TbDevice, rpcId: number, answered: boolean): void {
    const key = `${dev.name}\n${rpcId}`;
    const c = this.commands.get(this.rpcCommand.get(key) ?? '');
    this.rpcCommand.delete(key);
    if (c === undefined || !answered) return;
    c.answered++;
    c.rttMs.push(epochNow() - c.issuedAt);
  }

  stats() {
    const bytesByDevice: Record<string, number> = {};
    let reports = 0;
    let requests = 0;
    for (const d of this.state.devices.values()) {
      if (d.counts.fwBytes > 0) bytesByDevice[d.name] = d.counts.fwBytes;
      for (const n of Object.values(d.counts.fwStates)) reports += n;
      requests += d.counts.fwChunkRequests;
    }
    return platformStats({ artifactRequests: requests, bytesByDevice, stateReports: reports, versions: this.state.versions(), pending: 0, approved: this.state.devices.size });
  }
}
