/**
 * Test seams for a generator starved of CPU. With FLEETSIM_TEST_STALL_MS=N in the environment, a
 * wall-clock shard blocks its own thread for N ms every STALL_EVERY_MS, as a generator starved of
 * CPU would be. Tests use it to make an overloaded generator certain instead of hoping a machine
 * is slow enough (a run that relied on load alone passed 1 time in 7). Never set in normal runs;
 * ignored when unset or 0.
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

/**
 * With FLEETSIM_TEST_TEARDOWN_STALL_MS=N, a wall-clock shard blocks its thread for N ms
 * TEARDOWN_STALLS times while it closes its sessions after `stop`, yielding in between so the
 * event-loop monitor's timer sees each block, as 19,000 sessions closing at low priority under 27
 * busy brokers did at 500,000 devices. Tests use it to show that teardown is not counted as load.
 */
export const TEARDOWN_STALL_ENV = 'FLEETSIM_TEST_TEARDOWN_STALL_MS';
const TEARDOWN_STALLS = 3;

/** Blocks the thread as the environment asks (nothing when unset or 0). */
export async function injectedTeardownStall(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const ms = Number(env[TEARDOWN_STALL_ENV] ?? 0);
  if (!(ms > 0)) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < TEARDOWN_STALLS; i++) {
    Atomics.wait(cell, 0, 0, ms);
    await new Promise((r) => setTimeout(r, 1));
  }
}
