/**
 * The names of the local platform fakes (`target.backend:` in a scenario, `fleetsim backend
 * --preset NAME`). One list for the scenario's validation (scenario/) and the registry of fakes
 * (backend/fakes/registry.ts, typed by it so a name without a fake, or a fake without a name, does
 * not compile). `example` speaks protocols/example.yaml; the others are fakes of a platform's
 * device API, driven by the built-in preset of the same name (docs/presets/).
 */
export const PLATFORM_FAKE_NAMES = ['example', 'mender', 'hawkbit', 'thingsboard', 'balena', 'aws-iot'] as const;

export type PlatformFakeName = (typeof PLATFORM_FAKE_NAMES)[number];

export function isPlatformFakeName(name: string): name is PlatformFakeName {
  return (PLATFORM_FAKE_NAMES as readonly string[]).includes(name);
}
