/**
 * Mosquitto for tests: a real broker on a free loopback port (see src/drivers/mqtt/local-mosquitto.ts).
 *
 * Availability policy (common to every test that needs Mosquitto): when `mosquitto` is missing
 * the tests are skipped with a printed reason, unless FLEETSIM_REQUIRE_MOSQUITTO=1, in which case
 * `requireMosquitto()` throws and the test file fails.
 */
import { findMosquitto, type LocalMosquitto, startLocalMosquitto } from '../../src/drivers/mqtt/local-mosquitto.js';

export type TestMosquitto = LocalMosquitto;

export interface StartMosquittoOptions {
  maxConnections?: number;
  /** Anonymous clients are always allowed; the field exists to make that explicit at call sites. */
  allowAnonymous?: true;
  maxQueuedMessages?: number;
}

export function startMosquitto(opts: StartMosquittoOptions = {}): Promise<TestMosquitto> {
  return startLocalMosquitto({ maxConnections: opts.maxConnections, maxQueuedMessages: opts.maxQueuedMessages });
}

export function mosquittoAvailable(): { ok: boolean; reason?: string } {
  const found = findMosquitto();
  return found.ok ? { ok: true } : { ok: false, reason: found.reason };
}

/**
 * True when Mosquitto tests can run. Use as `describe.runIf(requireMosquitto())(...)`.
 * Throws when FLEETSIM_REQUIRE_MOSQUITTO=1 and Mosquitto is missing; otherwise prints why the
 * tests are skipped and returns false.
 */
export function requireMosquitto(): boolean {
  const available = mosquittoAvailable();
  if (available.ok) return true;
  if (process.env.FLEETSIM_REQUIRE_MOSQUITTO === '1') {
    throw new Error(`FLEETSIM_REQUIRE_MOSQUITTO=1 but ${available.reason}`);
  }
  console.warn(`[fleetsim tests] skipping Mosquitto tests: ${available.reason} (set FLEETSIM_REQUIRE_MOSQUITTO=1 to make this fail)`);
  return false;
}
