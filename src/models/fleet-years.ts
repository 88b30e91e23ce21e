import { failureAgeYears, type BathtubHazard } from './hardware-failure.js';
import { brickPerInstall, cutDuringInstall, type PowerCutModel } from './power-loss.js';
import { Stream, uniform } from './rng.js';

/**
 * A fleet over years, device by device, on a virtual timeline in years. Each device has one
 * lifeline drawn at its birth (production or replacement): the age at which it goes dark is the
 * earliest of a hardware failure (hardware-failure.ts), storage wear-out (storage-wear.ts), an
 * empty battery (the run's projected lifetimes) and a brick from a power cut during an update
 * install (power-loss.ts); a planned retirement age removes it in working order. A dark device is
 * removed (the backend sees it leave) after `replaceAfterYears`, and replaced by a unit of the
 * revision in production then, when `replace` is set.
 *
 * Per-year results are sums, so devices are processed one after the other and nothing per device
 * is kept: a queue of pending replacements (typed arrays) is all the state. Draws are
 * counter-based (rng.ts), keyed by the device's birth order, so a run is reproducible.
 */

export const CAUSES = ['hardware', 'storage', 'battery', 'bricked'] as const;
export type FailureCause = (typeof CAUSES)[number];

export interface Revision {
  readonly name: string;
  readonly hazard: BathtubHazard;
  /** Storage wear-out ages: Weibull (shape, scale) in years; scale Infinity: never. */
  readonly wearShape: number;
  readonly wearScaleYears: number;
  /** Battery lifetimes to draw from (years, any order); empty: mains, never depletes. */
  readonly batteryYears: ArrayLike<number>;
  readonly power: PowerCutModel;
  /** Seconds an update install takes (write the image, reboot). */
  readonly installWindowS: number;
}

export interface ProductionBatch {
  /** Months from the start of the run. */
  readonly startMonth: number;
  readonly months: number;
  readonly perMonth: number;
  readonly revision: number;
}

export interface YearsCampaign {
  readonly release: string;
  readonly atYears: number;
  /** Devices install at a uniformly random time within this many years of the start. */
  readonly spreadYears: number;
}

export interface YearsInput {
  readonly seed: number;
  readonly years: number;
  readonly revisions: readonly Revision[];
  readonly production: readonly ProductionBatch[];
  readonly campaigns: readonly YearsCampaign[];
  readonly retireAtYears: number;
  readonly replace: boolean;
  readonly replaceAfterYears: number;
  /** Share of the time a working device has its link (behaviour.offline.availability, or 1). */
  readonly availability: number;
  readonly initialRelease: string;
}

export interface YearRow {
  year: number;
  produced: number;
  replacements: number;
  failed: Record<FailureCause, number>;
  retired: number;
  /** Devices removed from the fleet (the backend sees them leave): failed ones and retired ones. */
  decommissioned: number;
  /** At the year's end: devices in the field (working or dark, not yet removed) and working. */
  inField: number;
  working: number;
  /** Expected share of devices in the field that are online: working * availability / in field. */
  onlineShare: number;
  /** Working devices by release at the year's end. */
  releases: Record<string, number>;
}

export interface CampaignRow {
  release: string;
  installs: number;
  singleSlotInstalls: number;
  interrupted: number;
  bricked: number;
  rolledBack: number;
}

export interface YearsResult {
  rows: YearRow[];
  campaigns: CampaignRow[];
  devices: number;
}

const MONTH = 1 / 12;
/** Counters of a device's draws on Stream.failure: four lifeline draws, then two per campaign. */
const C_INFANT = 0;
const C_RANDOM = 1;
const C_BOARD = 2;
const C_STORAGE = 3;
const C_BATTERY = 4;
const C_CAMPAIGN = 5;

export function simulateYears(inp: YearsInput): YearsResult {
  const Y = Math.ceil(inp.years);
  const ncause = CAUSES.length;
  const nc = inp.campaigns.length;
  const releases = [inp.initialRelease, ...inp.campaigns.map((c) => c.release)];
  const produced = new Float64Array(Y);
  const replacements = new Float64Array(Y);
  const failed = new Float64Array(Y * ncause);
  const retired = new Float64Array(Y);
  const removed = new Float64Array(Y);
  const inField = new Float64Array(Y);
  const working = new Float64Array(Y);
  const onRelease = new Float64Array(Y * releases.length);
  const camp = new Float64Array(nc * 5);
  const installAt = new Float64Array(nc);
  const order = inp.campaigns.map((_, i) => i).sort((a, b) => inp.campaigns[a].atYears - inp.campaigns[b].atYears);
  let queueT = new Float64Array(1024);
  let queueRev = new Uint16Array(1024);
  let queued = 0;
  let device = 0;

  const revisionAt = (t: number): number => {
    let r = inp.production.length > 0 ? inp.production[0].revision : 0;
    for (const b of inp.production) if (b.startMonth * MONTH <= t) r = b.revision;
    return r;
  };

  const live = (birth: number, rev: number, replacement: boolean): void => {
    const id = device++;
    const yb = Math.floor(birth);
    (replacement ? replacements : produced)[yb]++;
    const R = inp.revisions[rev];
    const u = (k: number) => uniform(inp.seed, id, Stream.failure, k);
    const hwAge = failureAgeYears(R.hazard, u(C_INFANT), u(C_RANDOM), u(C_BOARD));
    const wearAge = Number.isFinite(R.wearScaleYears) ? R.wearScaleYears * Math.pow(-Math.log1p(-u(C_STORAGE)), 1 / R.wearShape) : Infinity;
    const nb = R.batteryYears.length;
    const battAge = nb > 0 ? R.batteryYears[Math.min(nb - 1, Math.floor(u(C_BATTERY) * nb))] : Infinity;
    let end = birth + Math.min(hwAge, wearAge, battAge, inp.retireAtYears);
    let cause = hwAge <= Math.min(wearAge, battAge) ? 0 : wearAge <= battAge ? 1 : 2;
    if (inp.retireAtYears <= Math.min(hwAge, wearAge, battAge)) cause = -1;
    // Updates in time order: each one the device lives to see, installed after its own delay.
    installAt.fill(Infinity);
    let release = 0;
    for (const c of order) if (inp.campaigns[c].atYears <= birth) release = c + 1;
    const pBrick = brickPerInstall(R.power, R.installWindowS);
    const pCut = cutDuringInstall(R.power, R.installWindowS);
    for (const c of order) {
      const k = inp.campaigns[c];
      if (k.atYears <= birth) continue;
      const t = k.atYears + u(C_CAMPAIGN + 2 * c) * k.spreadYears;
      if (t >= end || t >= inp.years) continue;
      const draw = u(C_CAMPAIGN + 2 * c + 1);
      camp[c * 5]++;
      if (R.power.slots === 'single') camp[c * 5 + 1]++;
      if (draw < pCut) {
        camp[c * 5 + 2]++;
        if (R.power.slots === 'a/b') camp[c * 5 + 4]++;
      }
      if (draw < pBrick) {
        camp[c * 5 + 3]++;
        end = t;
        cause = 3;
        break;
      }
      installAt[c] = t;
    }
    const gone = cause < 0 ? end : end + inp.replaceAfterYears;
    const ye = Math.floor(end);
    if (ye < Y) {
      if (cause < 0) retired[ye]++;
      else failed[ye * ncause + cause]++;
    }
    const yr = Math.floor(gone);
    if (yr < Y) removed[yr]++;
    // Year ends the device saw: in the field until removed, working until it went dark.
    for (let y = Math.max(yb, 0); y < Y; y++) {
      const t = y + 1;
      if (t < birth || t >= gone) continue;
      inField[y]++;
      if (t < end) {
        working[y]++;
        let r = release;
        for (const c of order) if (installAt[c] <= t) r = c + 1;
        onRelease[y * releases.length + r]++;
      }
    }
    if (cause >= 0 && inp.replace && gone < inp.years) {
      if (queued === queueT.length) {
        const t2 = new Float64Array(queued * 2);
        t2.set(queueT);
        queueT = t2;
        const r2 = new Uint16Array(queued * 2);
        r2.set(queueRev);
        queueRev = r2;
      }
      queueT[queued] = gone;
      queueRev[queued++] = revisionAt(gone);
    }
  };

  // Production: units of a month are born evenly over it.
  for (const b of inp.production) {
    for (let m = 0; m < b.months; m++) {
      const start = (b.startMonth + m) * MONTH;
      if (start >= inp.years) break;
      const n = Math.round(b.perMonth);
      for (let i = 0; i < n; i++) live(start + ((i + 0.5) / n) * MONTH, b.revision, false);
    }
  }
  // Replacements, until none is left (a replacement can fail and be replaced in turn).
  for (let head = 0; head < queued; head++) live(queueT[head], queueRev[head], true);

  const rows: YearRow[] = [];
  for (let y = 0; y < Y; y++) {
    const rel: Record<string, number> = {};
    releases.forEach((r, i) => {
      const n = onRelease[y * releases.length + i];
      if (n > 0) rel[r] = n;
    });
    const f = Object.fromEntries(CAUSES.map((c, i) => [c, failed[y * ncause + i]])) as Record<FailureCause, number>;
    rows.push({
      year: y + 1,
      produced: produced[y],
      replacements: replacements[y],
      failed: f,
      retired: retired[y],
      decommissioned: removed[y],
      inField: inField[y],
      working: working[y],
      onlineShare: inField[y] > 0 ? (working[y] * inp.availability) / inField[y] : 0,
      releases: rel,
    });
  }
  const campaigns = inp.campaigns.map((c, i) => ({
    release: c.release,
    installs: camp[i * 5],
    singleSlotInstalls: camp[i * 5 + 1],
    interrupted: camp[i * 5 + 2],
    bricked: camp[i * 5 + 3],
    rolledBack: camp[i * 5 + 4],
  }));
  return { rows, campaigns, devices: device };
}
