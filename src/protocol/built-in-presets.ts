/**
 * The names of the built-in presets `target.preset` accepts. One list for the scenario's
 * validation (scenario/) and the factories (drivers/presets/index.ts, typed by it so a name
 * without a factory, or a factory without a name, does not compile).
 */
export const BUILT_IN_PRESET_NAMES = ['reference', 'thingsboard', 'mender', 'hawkbit', 'balena', 'aws-iot'] as const;

export type BuiltInPresetName = (typeof BUILT_IN_PRESET_NAMES)[number];

export function isBuiltInPresetName(name: string): name is BuiltInPresetName {
  return (BUILT_IN_PRESET_NAMES as readonly string[]).includes(name);
}
