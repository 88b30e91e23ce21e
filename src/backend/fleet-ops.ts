import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import {
  SUPPRESSED_PREFIX,
  type CommandRequest,
  type CommandStatus,
  type DeviceResponse,
  type FleetOpsStats,
  type ProvisioningPolicy,
} from '../wire/fleet-ops.js';
import { ArtifactStore } from './artifacts.js';
import { Campaigns } from './campaigns.js';
import type { DeviceRecord, DeviceStore } from './store.js';

/**
 * The fleet-operations side of the embedded backend, behind the HTTP API and the broker:
 * artifacts, campaigns, configuration pushes, commands with their round trips, device logs and
 * the provisioning policy (automatic, or manual approval at a rate).
 *
 * Concurrency: the backend's event loop only. One timer (TICK_MS) advances rollouts, approves
 * pending devices and samples the version distribution; it is unref'd and cleared on close.
 */

const TICK_MS = 250;
const SAMPLE_EVERY_MS = 1000;

/** Epoch milliseconds with sub-millisecond precision (comparable across threads of one machine). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

interface CommandRecord {
  id: string;
  name: string;
  issuedAt: number;
  sent: number;
  rttMs: number[];
}

export class FleetOps {
  readonly artifacts = new ArtifactStore();
  readonly campaigns: Campaigns;
  private configVersion = 0;
  private config: Record<string, string> = {};
  private configIssuedAt = 0;
  private readonly commands = new Map<string, CommandRecord>();
  private policy: ProvisioningPolicy = { mode: 'auto' };
  private readonly pending: string[] = [];
  private readonly approved = new Set<string>();
  private approvalCredit = 0;
  private lastTick = epochNow();
  private lastSample = 0;
  private readonly timer: NodeJS.Timeout;
  readonly counts = { stateReports: 0, configAcks: 0, commandAnswers: 0, logLines: 0, logSuppressedNotices: 0, logLinesSuppressed: 0, eolReports: 0, pendingProvisions: 0 };

  constructor(
    private readonly store: DeviceStore,
    /** Publishes to the device's commands topic (QoS 1); a no-op without a broker. */
    private readonly publish: (rec: DeviceRecord, payload: string) => void,
  ) {
    this.campaigns = new Campaigns(store, publish);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = epochNow();
    if (this.policy.mode === 'manual' && this.policy.approvalRatePerSec) {
      this.approvalCredit += ((now - this.lastTick) / 1000) * this.policy.approvalRatePerSec;
      while (this.approvalCredit >= 1 && this.pending.length > 0) {
        this.approved.add(this.pending.shift()!);
        this.approvalCredit--;
      }
      if (this.pending.length === 0) this.approvalCredit = Math.min(this.approvalCredit, 1);
    }
    this.lastTick = now;
    this.campaigns.tick(now);
    if (now - this.lastSample >= SAMPLE_EVERY_MS) {
      this.lastSample = now;
      this.campaigns.sample(now);
    }
  }

  // --- provisioning ---

  setPolicy(p: ProvisioningPolicy): void {
    this.policy = { ...p };
  }

  /**
   * Whether a provisioning request may get credentials now. Manual mode: a new serial waits in
   * the approval queue (answered 202 pending) until the approver reaches it.
   */
  admitProvision(serial: string): boolean {
    if (this.policy.mode === 'auto' || this.store.has(serial) || this.approved.has(serial)) return true;
    if (!this.pending.includes(serial)) {
      this.pending.push(serial);
      this.counts.pendingProvisions++;
    }
    return false;
  }

  // --- device moments (from the broker and the HTTP API) ---

  onSubscribed(rec: DeviceRecord): void {
    const now = epochNow();
    if (rec.configAcked < this.configVersion) this.publish(rec, this.configMessage());
    this.campaigns.onSubscribed(rec, now);
  }

  onResponse(rec: DeviceRecord, payload: Buffer): void {
    let msg: DeviceResponse;
    try {
      msg = JSON.parse(payload.toString('utf8')) as DeviceResponse;
    } catch {
      return;
    }
    if (msg.type === 'config-ack') {
      if (msg.version > rec.configAcked) rec.configAcked = msg.version;
      this.counts.configAcks++;
    } else if (msg.type === 'command-result') {
      const c = this.commands.get(msg.id);
      this.counts.commandAnswers++;
      if (c) c.rttMs.push(epochNow() - c.issuedAt);
    } else if (msg.type === 'eol') {
      this.counts.eolReports++;
    }
  }

  /** One log publish: lines separated by '\n'; a `suppressed N` line stands for N dropped lines. */
  onLogs(payload: Buffer): void {
    const text = payload.toString('utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (text.startsWith(SUPPRESSED_PREFIX, start)) {
        this.counts.logSuppressedNotices++;
        this.counts.logLinesSuppressed += Number(text.slice(start + SUPPRESSED_PREFIX.length, end)) || 0;
      } else if (end > start) {
        this.counts.logLines++;
      }
      start = end + 1;
    }
  }

  onStateReport(rec: DeviceRecord, release: string, status: string, campaign: string | undefined, cause: string | undefined): void {
    this.counts.stateReports++;
    this.campaigns.onReport(rec, release, status, campaign, cause);
  }

  // --- operator actions ---

  pushConfig(config: Record<string, string>): { version: number; issuedAt: number; sent: number } {
    this.configVersion++;
    this.config = { ...config };
    this.configIssuedAt = epochNow();
    const payload = this.configMessage();
    let sent = 0;
    for (const rec of this.store.records()) {
      if (!rec.online) continue;
      this.publish(rec, payload);
      sent++;
    }
    return { version: this.configVersion, issuedAt: this.configIssuedAt, sent };
  }

  /** Current configuration version and values (the target state carries them). */
  configState(): { version: number; config: Record<string, string>; issuedAt: number } {
    return { version: this.configVersion, config: this.config, issuedAt: this.configIssuedAt };
  }

  private configMessage(): string {
    return JSON.stringify({ type: 'config', version: this.configVersion, config: this.config, issuedAt: this.configIssuedAt });
  }

  sendCommand(req: CommandRequest): { id: string; issuedAt: number; sent: number } {
    const c: CommandRecord = { id: randomUUID(), name: req.name, issuedAt: epochNow(), sent: 0, rttMs: [] };
    this.commands.set(c.id, c);
    const fraction = req.fraction ?? 1;
    const payload = JSON.stringify({ type: 'command', id: c.id, name: c.name, issuedAt: c.issuedAt });
    for (const rec of this.store.records()) {
      if (!rec.online || rec.rank >= fraction) continue;
      this.publish(rec, payload);
      c.sent++;
    }
    return { id: c.id, issuedAt: c.issuedAt, sent: c.sent };
  }

  command(id: string): CommandStatus | undefined {
    const c = this.commands.get(id);
    return c && { id: c.id, name: c.name, sent: c.sent, answered: c.rttMs.length, rttMs: [...c.rttMs] };
  }

  stats(withDevices = true): FleetOpsStats {
    this.campaigns.sample(epochNow());
    const bytesByDevice: Record<string, number> = {};
    if (withDevices) for (const rec of this.store.records()) if (rec.artifactBytes > 0) bytesByDevice[rec.id] = rec.artifactBytes;
    return {
      artifactRequests: this.artifacts.requests,
      artifactBytesServed: this.artifacts.bytesServed,
      bytesByDevice,
      versions: this.campaigns.versionCounts(),
      versionHistory: this.campaigns.history,
      approved: this.approved.size,
      ...this.counts,
    };
  }
}
