/**
 * Growing the typed arrays that hold per-message and per-event state (queues, pools, bitsets):
 * they start small and double when full, so memory follows the live count and a grow is rare
 * (amortised O(1) per insert). One copy routine for all of them.
 */
export type GrowableArray = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** A new array of `a`'s type, `capacity` long, holding `a`'s values first (the rest are zeros). */
export function grown<T extends GrowableArray>(a: T, capacity: number): T {
  const b = new (a.constructor as new (length: number) => T)(capacity);
  b.set(a);
  return b;
}

/** The capacity after doubling `current` until it holds at least `needed` (and at least `min`). */
export function doubledCapacity(current: number, needed: number, min = 1): number {
  let cap = Math.max(min, current * 2);
  while (cap < needed) cap *= 2;
  return cap;
}
