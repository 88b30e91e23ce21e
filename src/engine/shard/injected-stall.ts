/**
 * Test seam: with FLEETSIM_TEST_STALL_MS=N in the environment, a wall-clock shard blocks its own
 * thread for N ms every STALL_EVERY_MS, as a generator starved of CPU would be. Tests use it to
 * make an overloaded generator certain instead of hoping a machine is slow enough (a run that
 * relied on load alone passed 1 time in 7). Never set in normal runs; ignored when unset or 0.
 */
export const STALL_ENV = 'FLEETSIM_TEST_STALL_MS';
const STALL_EVERY_MS = 200;

/** Starts the injected stalls when the environment asks for them; returns how to stop them. */
export function startInjectedStalls(env: NodeJS.ProcessEnv = process.env): () => void {
  const ms = Number(env[STALL_ENV] ?? 0);
  if (!(ms > 0)) return () => {};
  // Atomics.wait blocks the thread (timers and I/O wait behind it) without spinning a core.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const timer = setInterval(() => Atomics.wait(cell, 0, 0, ms), STALL_EVERY_MS);
  return () => clearInterval(timer);
}
