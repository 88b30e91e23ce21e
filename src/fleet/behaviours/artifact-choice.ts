import type { OfferedArtifact } from '../../drivers/types.js';

/**
 * Which artifact of an offer a device fetches: the device's choice, so it lives with device
 * behaviour. An artifact without an arch was chosen for the device by its backend already.
 */
export function fitsArch(a: OfferedArtifact, arch: string): boolean {
  return a.arch === undefined || a.arch === arch;
}

/** The artifact a device of `arch` running `current` should fetch: a delta from its release, else the full one. */
export function pickArtifact(refs: readonly OfferedArtifact[], arch: string, current: string): OfferedArtifact | undefined {
  let full: OfferedArtifact | undefined;
  for (const a of refs) {
    if (!fitsArch(a, arch)) continue;
    if (a.kind === 'delta' && a.from === current) return a;
    if (a.kind === 'full') full = a;
  }
  return full;
}
