import { describe, expect, it } from 'vitest';
import { DEFAULT_BATHTUB, failedShare, failureAgeYears, infantRisk, type BathtubHazard } from '../../src/models/hardware-failure.js';
import { brickPerInstall, cutDuringInstall, installWindowS } from '../../src/models/power-loss.js';
import { enduranceHostBytes, hostBytesPerDay, JESD218_FAILED_AT_RATING, ratedWearoutYears, STORAGE_DEFAULTS, wearoutScaleYears } from '../../src/models/storage-wear.js';
import { simulateYears, type Revision, type YearsInput } from '../../src/models/fleet-years.js';
import { uniform } from '../../src/models/rng.js';

/** |measured - p| within the 99% normal interval of a binomial share over n trials. */
function within99(measured: number, p: number, n: number): void {
  const half = 2.5758 * Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(measured - p)).toBeLessThanOrEqual(half);
}

const NONE: BathtubHazard = { randomPerYear: 0 };
const revision = (over: Partial<Revision> = {}): Revision => ({
  name: 'r',
  hazard: NONE,
  wearShape: 4,
  wearScaleYears: Infinity,
  batteryYears: [],
  power: { cutsPerYear: 0, slots: 'a/b', brickProbability: 0 },
  installWindowS: 0,
  ...over,
});
const years = (over: Partial<YearsInput>): YearsInput => ({
  seed: 7,
  years: 5,
  revisions: [revision()],
  production: [{ startMonth: 0, months: 1, perMonth: 100_000, revision: 0 }],
  campaigns: [],
  retireAtYears: Infinity,
  replace: false,
  replaceAfterYears: 0,
  availability: 1,
  initialRelease: 'v1',
  ...over,
});

describe('random hardware failures (bathtub Weibull)', () => {
  it('the infant risk takes its stated share in the first year', () => {
    expect(failedShare({ infant: infantRisk(0.5, 0.01), randomPerYear: 0 }, 1)).toBeCloseTo(0.01, 12);
  });

  it('the share of draws failed by 1, 3 and 5 years matches 1 - exp(-H(t)) within 99%', () => {
    const n = 200_000;
    const ages = new Float64Array(n);
    for (let i = 0; i < n; i++) ages[i] = failureAgeYears(DEFAULT_BATHTUB, uniform(3, i, 13, 0), uniform(3, i, 13, 1), uniform(3, i, 13, 2));
    for (const t of [1, 3, 5]) {
      const measured = ages.filter((a) => a <= t).length / n;
      // H(t) by hand: infant (t/eta)^0.5 with (1/eta)^0.5 = -ln(0.99); 0.005 t; (t/15)^3.
      const H = -Math.log(0.99) * Math.sqrt(t) + 0.005 * t + (t / 15) ** 3;
      within99(measured, 1 - Math.exp(-H), n);
    }
  });

  it('a fleet of 100,000 over 5 years fails as many devices as the closed form says', () => {
    const r = simulateYears(years({ revisions: [revision({ hazard: DEFAULT_BATHTUB })] }));
    const failed = r.rows.reduce((a, y) => a + y.failed.hardware, 0);
    // Born over the first month, so each device's age at the end is 5 years minus up to a month.
    const p = (failedShare(DEFAULT_BATHTUB, 5) + failedShare(DEFAULT_BATHTUB, 5 - 1 / 12)) / 2;
    within99(failed / 100_000, p, 100_000);
    expect(r.rows[4].working).toBe(100_000 - failed);
  });
});

describe('power cuts during installs', () => {
  it('bricks single-slot devices at cut rate x install window x brick probability, A/B never', () => {
    const w = installWindowS(4 * 1024 * 1024, 32_000, 20); // 131.07 s writing + 20 s reboot
    expect(w).toBeCloseTo(151.072, 3);
    const power = { cutsPerYear: 2000, slots: 'single' as const, brickProbability: 0.5 };
    const lambdaW = (2000 / (365.25 * 86_400)) * w;
    expect(cutDuringInstall(power, w)).toBeCloseTo(1 - Math.exp(-lambdaW), 15);
    const p = brickPerInstall(power, w);
    expect(p).toBeCloseTo(lambdaW * 0.5, 3); // small lambda w: ~ lambda w p
    const campaigns = [{ release: 'v2', atYears: 1, spreadYears: 0.1 }];
    const single = simulateYears(years({ revisions: [revision({ power, installWindowS: w })], campaigns }));
    expect(single.campaigns[0].installs).toBe(100_000);
    within99(single.campaigns[0].bricked / 100_000, p, 100_000);
    expect(single.rows[1].failed.bricked).toBe(single.campaigns[0].bricked);
    const ab = simulateYears(years({ revisions: [revision({ power: { ...power, slots: 'a/b' }, installWindowS: w })], campaigns }));
    expect(ab.campaigns[0].bricked).toBe(0);
    within99(ab.campaigns[0].rolledBack / 100_000, 1 - Math.exp(-lambdaW), 100_000);
    expect(ab.rows[4].releases).toEqual({ v2: 100_000 });
  });
});

describe('storage wear', () => {
  it('rated wear-out age: capacity x P/E cycles / WAF over the bytes written a day', () => {
    const emmc = STORAGE_DEFAULTS.emmc; // 3,000 cycles, WAF 4, 4 KiB pages
    expect(enduranceHostBytes(emmc, 8e9)).toBe(8e9 * 3000 / 4);
    // 96 records of 200 B (one 4 KiB page each), 1,000 log lines of 100 B (one page each),
    // one 64 MiB image a year, 50 MB of background writes a day.
    const perDay = hostBytesPerDay(emmc, { records: 96, recordBytes: 200, logLines: 1000, logLineBytes: 100, installsPerDay: 1 / 365.25, imageBytes: 64 * 1024 * 1024, backgroundBytes: 50e6 });
    const hand = 96 * 4096 + 1000 * 4096 + (64 * 1024 * 1024) / 365.25 + 50e6;
    expect(perDay).toBeCloseTo(hand, 6);
    expect(ratedWearoutYears(emmc, 8e9, perDay)).toBeCloseTo(6e12 / hand / 365.25, 9);
    expect(enduranceHostBytes({ ...emmc, tbwBytes: 40e12 }, 8e9)).toBe(40e12);
  });

  it('JESD218: 3% of devices have worn out at the rated age', () => {
    const rated = 2;
    const r = simulateYears(years({ years: rated, revisions: [revision({ wearShape: 3, wearScaleYears: wearoutScaleYears(rated, 3) })], production: [{ startMonth: 0, months: 1, perMonth: 100_000, revision: 0 }] }));
    // Born over the first month: ages at the end run from rated - 1/12 to rated.
    const scale = wearoutScaleYears(rated, 3);
    const p = (JESD218_FAILED_AT_RATING + (1 - Math.exp(-(((rated - 1 / 12) / scale) ** 3)))) / 2;
    within99((r.rows[0].failed.storage + r.rows[1].failed.storage) / 100_000, p, 100_000);
  });
});

describe('the fleet over years', () => {
  it('replaces failed devices after the stated delay and retires the rest at the planned age', () => {
    const r = simulateYears(years({ years: 4, revisions: [revision({ hazard: { randomPerYear: 0.2 } })], replace: true, replaceAfterYears: 0.25, retireAtYears: 3 }));
    const total = (k: 'produced' | 'replacements' | 'retired' | 'decommissioned') => r.rows.reduce((a, y) => a + y[k], 0);
    const failed = r.rows.reduce((a, y) => a + y.failed.hardware, 0);
    expect(total('produced')).toBe(100_000);
    // Every failure before 3.75 years is replaced; the replacements are devices like the others.
    expect(total('replacements')).toBe(r.devices - 100_000);
    expect(r.rows[0].retired + r.rows[1].retired).toBe(0);
    // Accounting: everything born is in the field at the end or was decommissioned.
    expect(r.devices).toBe(r.rows[3].inField + total('decommissioned'));
    expect(failed).toBeGreaterThan(0);
  });
});
