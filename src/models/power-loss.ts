/**
 * Power cuts during an update install.
 *
 * Cuts arrive as a Poisson process of rate lambda per device. An install writes the new image for
 * w = image bytes / write speed seconds, then reboots; a cut inside that window interrupts it.
 *
 *   P(cut during install) = 1 - exp(-lambda w)          (~ lambda w when lambda w is small)
 *   P(brick | single slot) = P(cut during install) * p_brick
 *   P(brick | A/B)         = 0
 *
 * A device with two image slots (A/B) writes the inactive slot and switches only after the new
 * image verifies, so an interrupted install boots the old slot (a rollback). A single-slot device
 * overwrites the only image it has; `p_brick` is the chance that the half-written image leaves a
 * bootloader with nothing it can start (some bootloaders keep a recovery path, hence a probability).
 */

export type SlotLayout = 'a/b' | 'single';

export interface PowerCutModel {
  /** Cuts per device per year. */
  readonly cutsPerYear: number;
  readonly slots: SlotLayout;
  /** Probability that an interrupted single-slot install bricks the device. */
  readonly brickProbability: number;
}

const SECONDS_PER_YEAR = 365.25 * 86_400;

/** Install window in seconds: writing the image at the storage's write speed, plus the reboot. */
export function installWindowS(imageBytes: number, writeBytesPerSec: number, rebootS: number): number {
  return imageBytes / writeBytesPerSec + rebootS;
}

/** Probability that at least one cut falls inside an install window of `windowS`. */
export function cutDuringInstall(m: Pick<PowerCutModel, 'cutsPerYear'>, windowS: number): number {
  return -Math.expm1(-(m.cutsPerYear / SECONDS_PER_YEAR) * windowS);
}

/** Probability that one install bricks the device. */
export function brickPerInstall(m: PowerCutModel, windowS: number): number {
  return m.slots === 'a/b' ? 0 : cutDuringInstall(m, windowS) * m.brickProbability;
}

/**
 * Defaults (assumed, docs/models.md "Power loss"): 4 cuts a year (a mains supply with a few
 * interruptions a year; batteries that brown out); a half-written single image bricks 50% of the
 * time (half the time the cut falls before the bootloader-critical part is rewritten).
 */
export const DEFAULT_POWER_CUTS: PowerCutModel = { cutsPerYear: 4, slots: 'a/b', brickProbability: 0.5 };
