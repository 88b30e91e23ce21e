import type { PresetFactory } from '../preset.js';
import type { BuiltInPresetName } from '../../protocol/built-in-presets.js';
import { referencePreset } from './reference.js';
import { thingsboardPreset } from './thingsboard.js';
import { menderPreset } from './mender.js';
import { hawkbitPreset } from './hawkbit.js';
import { balenaPreset } from './balena.js';
import { awsIotPreset } from './aws-iot.js';

/** The built-in presets by the name `target.preset` gives them. */
const BUILT_IN: Record<BuiltInPresetName, PresetFactory> = {
  reference: referencePreset,
  thingsboard: thingsboardPreset,
  mender: (settings) => menderPreset(settings),
  hawkbit: (settings) => hawkbitPreset(settings),
  balena: (settings) => balenaPreset(settings),
  'aws-iot': awsIotPreset,
};

/** Names `target.preset` accepts as built-ins. */
export const BUILT_IN_PRESETS: readonly string[] = Object.keys(BUILT_IN);

/** Looks a built-in preset up by name. */
export function presetByName(name: string): PresetFactory | undefined {
  return Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name as BuiltInPresetName] : undefined;
}
