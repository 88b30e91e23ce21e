/**
 * Solar harvest as an average input power.
 *
 * Daily yield: `E_day = P_peak * PSH * k`, where PSH is the site's peak sun hours and k (0.5–0.75)
 * lumps panel temperature, angle, dirt, MPPT and charge losses (SolarStat; Byamukama et al. 2019).
 *
 * Simplification: the daily yield is spread evenly over 24 hours and fed to EnergyState.harvestW as a
 * constant power, and the battery never holds more than its usable capacity. This keeps the closed form
 * (one linear segment between events) but ignores the day/night cycle: a device whose *average* harvest
 * covers its load is predicted to live forever even if its battery cannot carry it through one night,
 * and seasonal PSH changes must be modelled by changing harvestW. Check the night separately:
 * `nightReserveOk` below.
 */

export interface SolarPanel {
  /** Panel peak power at standard test conditions, W. */
  readonly peakW: number;
  /** Peak sun hours per day at the site, h. */
  readonly peakSunHours: number;
  /** System derating k, 0.5 to 0.75 (SolarStat; Byamukama et al. 2019). */
  readonly k: number;
}

/** Harvested energy per day, J. */
export function solarDailyEnergyJ(panel: SolarPanel): number {
  return panel.peakW * panel.peakSunHours * 3600 * panel.k;
}

/** The daily yield as a constant average power, W (see the simplification above). */
export function solarAverageHarvestW(panel: SolarPanel): number {
  return solarDailyEnergyJ(panel) / 86_400;
}

/**
 * Whether a full battery carries the load through the hours without sun:
 * `usableJ >= loadW * (24 - PSH) h`. A coarse check for the case the averaged model hides.
 */
export function nightReserveOk(panel: SolarPanel, loadW: number, usableJ: number): boolean {
  return usableJ >= loadW * (24 - panel.peakSunHours) * 3600;
}
