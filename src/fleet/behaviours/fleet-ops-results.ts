/**
 * What fleet-operation behaviours of one shard found, for the run's report: release transitions
 * binned in time (the rollout curve), failures by cause, energy and updates per group, log and
 * config figures. Plain data, merged across shards by adding (engine/fleet-ops-results.ts).
 */

/** A rollout step taken (0-based index of the new step) or its abort, ms since the campaign started. */
export interface RolloutChangeRecord {
  afterMs: number;
  step: number;
  aborted: boolean;
}
export interface FleetOpsFinal {
  binMs: number;
  /** Devices of this shard (all start on `releases[0]`). */
  devices: number;
  /** Release names; index 0 is the factory release. */
  releases: string[];
  /** Per release, devices that moved onto / off it in each time bin. */
  into: number[][];
  outOf: number[][];
  /** Failures by cause (incompatible, checksum, too-slow, download, health-check, battery). */
  causes: Record<string, number>;
  /**
   * Per fleet group: updates committed and artifact bytes downloaded. Bytes, not joules: integer
   * sums are exact in any order, so OTA energy (bytes x the group's J/MiB, computed once at the
   * end) is the same however the fleet was split over shards.
   */
  groups: Array<{ profile: string; updates: number; otaBytes: number }>;
  /** Devices that could take the update (an artifact for their arch exists), per campaign release. */
  compatible: Record<string, number>;
  /** Campaign outcomes as the (modelled) backend saw them, virtual clock only. */
  campaigns?: Array<{ release: string; step: number; aborted: boolean; reason: string; startMs: number; changes: RolloutChangeRecord[] }>;
  logs?: { generated: number; sent: number; dropped: number; buffered: number };
  commandsSent?: number;
}

export class FleetOpsRecorder {
  readonly releases: string[];
  private readonly index = new Map<string, number>();
  private readonly into: Float64Array[] = [];
  private readonly outOf: Float64Array[] = [];
  readonly causes: Record<string, number> = {};
  readonly groupUpdates: Float64Array;
  readonly groupOtaBytes: Float64Array;
  readonly compatible: Record<string, number> = {};
  private readonly bins: number;

  constructor(
    initialRelease: string,
    readonly binMs: number,
    durationMs: number,
    private readonly groupProfiles: readonly string[],
  ) {
    this.bins = Math.max(1, Math.ceil(durationMs / binMs) + 1);
    this.releases = [];
    this.intern(initialRelease);
    this.groupUpdates = new Float64Array(groupProfiles.length);
    this.groupOtaBytes = new Float64Array(groupProfiles.length);
  }

  intern(release: string): number {
    let i = this.index.get(release);
    if (i === undefined) {
      i = this.releases.push(release) - 1;
      this.index.set(release, i);
      this.into.push(new Float64Array(this.bins));
      this.outOf.push(new Float64Array(this.bins));
    }
    return i;
  }

  /** A device moved from release `from` to `to` at simulated time `t`. */
  transition(from: number, to: number, t: number): void {
    const b = Math.min(this.bins - 1, Math.max(0, Math.floor(t / this.binMs)));
    this.outOf[from][b]++;
    this.into[to][b]++;
  }

  cause(c: string): void {
    this.causes[c] = (this.causes[c] ?? 0) + 1;
  }

  final(devices: number): FleetOpsFinal {
    return {
      binMs: this.binMs,
      devices,
      releases: [...this.releases],
      into: this.into.map((a) => Array.from(a)),
      outOf: this.outOf.map((a) => Array.from(a)),
      causes: { ...this.causes },
      groups: this.groupProfiles.map((profile, g) => ({ profile, updates: this.groupUpdates[g], otaBytes: this.groupOtaBytes[g] })),
      compatible: { ...this.compatible },
    };
  }
}
