/**
 * Debian's Mender tools for tests: `mender` (mender-client 3.4) and `mender-artifact`.
 *
 * Availability policy, as for Mosquitto: when they are missing the tests are skipped with a
 * printed reason, unless FLEETSIM_REQUIRE_MENDER=1 (CI), in which case the test file fails.
 * mender-client 3.4 runs its identity helper from a fixed path
 * (/usr/share/mender/identity/mender-device-identity, mendersoftware/mender 3.4.0
 * device/identity_data.go) that Debian's package leaves empty; `.ci/run` installs one, and so does
 * `requireMender()` when it may write there. The helper prints `mac=` from FLEETSIM_MENDER_MAC so
 * each test client has its own identity. Likewise ARTIFACT_INFO, which the client needs before its
 * first install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const IDENTITY_HELPER = '/usr/share/mender/identity/mender-device-identity';
/** Where mender-client 3.4 reads the running artifact's name before its first install (conf/paths.go). */
export const ARTIFACT_INFO = '/etc/mender/artifact_info';
const IDENTITY_SCRIPT = '#!/bin/sh\n# fleetsim tests: one identity per test client\necho "mac=${FLEETSIM_MENDER_MAC:-02:00:00:00:00:01}"\n';

function which(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function menderAvailable(): { ok: boolean; reason?: string } {
  if (!which('mender')) return { ok: false, reason: 'mender (Debian package mender-client) is not installed' };
  if (!which('mender-artifact')) return { ok: false, reason: 'mender-artifact is not installed' };
  for (const [file, text, mode] of [
    [IDENTITY_HELPER, IDENTITY_SCRIPT, 0o755],
    [ARTIFACT_INFO, 'artifact_name=fleetsim-base\n', 0o644],
  ] as const) {
    if (existsSync(file)) continue;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      accessSync(path.dirname(file), constants.W_OK);
      writeFileSync(file, text, { mode });
    } catch {
      return { ok: false, reason: `${file} is missing and not writable (.ci/run installs it)` };
    }
  }
  return { ok: true };
}

/** True when the Mender interop tests can run; use as `describe.runIf(requireMender())`. */
export function requireMender(): boolean {
  const a = menderAvailable();
  if (a.ok) return true;
  if (process.env.FLEETSIM_REQUIRE_MENDER === '1') throw new Error(`FLEETSIM_REQUIRE_MENDER=1 but ${a.reason}`);
  console.warn(`[fleetsim tests] skipping Mender client tests: ${a.reason} (set FLEETSIM_REQUIRE_MENDER=1 to make this fail)`);
  return false;
}
