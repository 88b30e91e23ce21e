/**
 * Waiting in tests: for a condition, with a deadline, never for a fixed time. A fixed sleep is
 * either too short on a loaded machine (a flaky failure) or longer than needed (a slow suite);
 * a condition polled until a deadline is neither, and its timeout message says what never came.
 */

// Captured at load, so that a test spying on the global timers does not count the polling.
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;

/** Polls `cond` (sync or async) every `everyMs` until it is true; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => realSetTimeout(r, everyMs));
  }
}

/**
 * Lets `turns` full turns of the event loop pass (each through the timers, I/O and check phases),
 * so that callbacks a component deferred with setImmediate or process.nextTick have run. The
 * barrier for "and nothing else was called back", where there is no later event to wait for.
 */
export async function eventLoopTurns(turns = 2): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await new Promise((r) => realSetTimeout(r, 0));
    await new Promise((r) => realSetImmediate(r));
  }
}
