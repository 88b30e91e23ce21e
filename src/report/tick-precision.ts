/**
 * Decimals that tell axis ticks one `step` apart, and no more: 0.25 -> 2, 0.5 -> 1, 5 -> 0. Shared
 * by the report page's script (report/browser/) and the sweep's server-drawn SVG, so that no axis
 * reads "0.00/s" on every tick or "0.01%, 0.01%, 0.00%". Pure: no imports (the page bundles it).
 */
export function decimalsFor(step: number): number {
  if (!(step > 0) || step >= 1) return 0;
  for (let d = 1; d < 8; d++) if (Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) < 1e-6) return d;
  return 8;
}
