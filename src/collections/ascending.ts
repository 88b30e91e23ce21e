/**
 * Sorting per-device numbers (battery lifetimes, energy windows) once a run is over. A typed array
 * sorts numerically in native code: for 100,000 devices ~15 ms, against ~70 ms for
 * `Array.prototype.sort` with a comparator, and the summary sorts each battery profile's values
 * several times after the run, while the user waits for it.
 */

/** An ascending copy of `values` (numeric order; -0 before +0, NaN last). */
export function ascending(values: ArrayLike<number>): Float64Array {
  return new Float64Array(values).sort();
}

/** The sum of `values` added in ascending order, so that it does not depend on the order they came in (how devices were split over shards). */
export function ascendingSum(values: ArrayLike<number>): number {
  // An index loop: `for...of` made an iterator result per value (500,000 per sum at 500,000 devices).
  const sorted = ascending(values);
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return sum;
}
