import type { PresetFactory } from '../preset.js';
import { BUILT_IN_PRESET_NAMES, type BuiltInPresetName } from '../../protocol/built-in-presets.js';

/**
 * The built-in presets by the name `target.preset` gives them, each imported only when a run
 * asks for it: every shard process and worker thread would otherwise hold all six (and the
 * wire formats they bring: Mender artifacts, tar, balena UUIDs), 26 processes at 500,000
 * devices (bench/RESULTS.md, "Shard process code").
 */
const BUILT_IN: Record<BuiltInPresetName, () => Promise<PresetFactory>> = {
  reference: async () => (await import('./reference.js')).referencePreset,
  thingsboard: async () => (await import('./thingsboard.js')).thingsboardPreset,
  mender: async () => {
    const { menderPreset } = await import('./mender.js');
    return (settings) => menderPreset(settings);
  },
  hawkbit: async () => {
    const { hawkbitPreset } = await import('./hawkbit.js');
    return (settings) => hawkbitPreset(settings);
  },
  balena: async () => {
    const { balenaPreset } = await import('./balena.js');
    return (settings) => balenaPreset(settings);
  },
  'aws-iot': async () => (await import('./aws-iot.js')).awsIotPreset,
};

/** Names `target.preset` accepts as built-ins. */
export const BUILT_IN_PRESETS: readonly string[] = BUILT_IN_PRESET_NAMES;

/** Looks a built-in preset up by name (imports its module the first time). */
export async function presetByName(name: string): Promise<PresetFactory | undefined> {
  return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name as BuiltInPresetName]() : undefined;
}
