import { PLATFORM_FAKE_NAMES, type PlatformFakeName } from '../../wire/platform-fakes.js';
import type { PlatformFake } from './platform-fake.js';
import { examplePlatformFake } from './acme/platform-fake.js';
import { menderPlatformFake } from './mender/platform-fake.js';
import { hawkbitPlatformFake } from './hawkbit/platform-fake.js';
import { thingsboardPlatformFake } from './thingsboard/platform-fake.js';
import { balenaPlatformFake } from './balena/platform-fake.js';
import { awsIotPlatformFake } from './aws-iot/platform-fake.js';

/**
 * The built-in platform fakes by name. Typed by PLATFORM_FAKE_NAMES (wire/platform-fakes.ts), so
 * a name the scenario schema accepts has a fake and every fake has a name. Registering a fake is
 * its name there, an entry here, and its probe in test/helpers/platform-fake-probes.ts, which runs
 * it through the contract suite (test/contracts/platform-fake.contract.ts) and the CLI test.
 *
 * Each entry loads its fake's server (`./<name>/index.js`: aedes, @peculiar/x509 ...) only in
 * `start`, so a run against another target, or a `--help`, does not pay for loading every fake.
 */
const FAKES: Record<PlatformFakeName, PlatformFake> = {
  example: examplePlatformFake,
  mender: menderPlatformFake,
  hawkbit: hawkbitPlatformFake,
  thingsboard: thingsboardPlatformFake,
  balena: balenaPlatformFake,
  'aws-iot': awsIotPlatformFake,
};

/** Every built-in fake, in the order of PLATFORM_FAKE_NAMES. */
export const PLATFORM_FAKES: readonly PlatformFake[] = PLATFORM_FAKE_NAMES.map((n) => FAKES[n]);

export function platformFake(name: string): PlatformFake | undefined {
  return Object.hasOwn(FAKES, name) ? FAKES[name as PlatformFakeName] : undefined;
}
