/** Per fleet group: what the OTA behaviour needs of the hardware profile and the link. */
export interface OtaGroup {
  profile: string;
  arch: string;
  /** Link downlink, bytes per second. */
  downBytesPerSec: number;
  /** Storage write speed, bytes per second (install time). */
  writeBytesPerSec: number;
  rebootMs: number;
  /** Energy of downloading one MiB, J. */
  otaJPerMiB: number;
}

/** A maintenance window: devices install only while it is open (times in simulated ms from the run start). */
export interface MaintenanceWindow {
  opensMs: number;
  lengthMs: number;
  everyMs: number;
}

export interface OtaConfig {
  seed: number;
  groups: OtaGroup[];
  /** Per release rolled out by the scenario: health-check failure probability (per group overrides) and window. */
  releases: Array<{ release: string; failureRate: number; byGroup: Array<number | undefined>; window?: MaintenanceWindow }>;
  /** Link time per chunk: one Range request carries this much of the link's bandwidth. */
  chunkMs: number;
  /** Abort a download that stays below this rate for lowSpeedTimeMs (rauc-hawkbit-updater: 100 B/s for 60 s). */
  lowSpeedBytesPerSec: number;
  lowSpeedTimeMs: number;
  healthCheckMs: number;
  appRestartMs: number;
}

/** The first time >= `t` at which the window is open. */
export function nextWindowOpen(w: MaintenanceWindow, t: number): number {
  if (t < w.opensMs) return w.opensMs;
  const k = Math.floor((t - w.opensMs) / w.everyMs);
  const start = w.opensMs + k * w.everyMs;
  return t < start + w.lengthMs ? t : start + w.everyMs;
}
