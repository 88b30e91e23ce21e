import { pathToFileURL } from 'node:url';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import type { Preset, PresetFactory } from '../../drivers/preset.js';
import { presetByName } from '../../drivers/presets/index.js';
import type { ResolvedPreset } from '../../scenario/resolved.js';

/** What a preset must have: every member of drivers/preset.ts that is not optional. */
const REQUIRED_MEMBERS = [
  'provisionRequest',
  'decodeProvision',
  'authorization',
  'connectIdentity',
  'subscriptions',
  'telemetryTopic',
  'telemetryPayload',
  'decodeMessage',
  'pollRequest',
  'decodePoll',
  'stateReport',
  'artifactRequest',
  'commandReply',
  'configAck',
  'endOfLineReport',
  'logs',
] as const;

/**
 * The preset factory of a resolved `target.preset`: a built-in by name, a protocol file spoken by
 * the declarative preset, or a JavaScript module imported by path whose default export (or
 * `createPreset`) is a `PresetFactory`. Each shard builds its own (a module is imported once per
 * thread or process); the coordinator calls `checkedPresetFactory` first so a module that does not
 * implement the interface stops the run before it starts (FLEETSIM_E_PRESET_MODULE, exit 2).
 */
export async function presetFactoryFor(p: ResolvedPreset): Promise<PresetFactory> {
  switch (p.kind) {
    case 'builtin': {
      const f = await presetByName(p.name);
      if (!f) throw new FleetsimError('FLEETSIM_E_INTERNAL', `built-in preset ${p.name} is missing`);
      return f;
    }
    case 'protocol':
      // Imported here, like the built-ins (drivers/presets/index.ts): only runs with a protocol file load it.
      return (await import('../../drivers/presets/declarative.js')).declarativePreset(p.protocol, p.secrets);
    case 'module':
      return importModulePreset(p.file);
  }
}

async function importModulePreset(file: string): Promise<PresetFactory> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_PRESET_MODULE', `module preset ${file} cannot be imported: ${(err as Error).message}`, { hint: 'the module must be an ES module (.mjs) that node can import on its own', cause: err });
  }
  const factory = typeof mod.default === 'function' ? mod.default : mod.createPreset;
  if (typeof factory !== 'function') {
    throw new FleetsimError('FLEETSIM_E_PRESET_MODULE', `module preset ${file} exports no preset factory`, { hint: 'export default (settings) => ({ name, provisionRequest, ... }), or export function createPreset(settings); see docs/presets.md' });
  }
  return factory as PresetFactory;
}

/** The factory, after building one preset and checking it has every member the interface requires. */
export async function checkedPresetFactory(p: ResolvedPreset, fleetKey: string): Promise<PresetFactory> {
  const factory = await presetFactoryFor(p);
  if (p.kind !== 'module') return factory;
  let preset: Preset;
  try {
    preset = factory({ fleetKey });
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_PRESET_MODULE', `module preset ${p.file} failed to build a preset: ${(err as Error).message}`, { hint: 'the factory is called with { fleetKey } and must return a preset synchronously', cause: err });
  }
  const missing = REQUIRED_MEMBERS.filter((m) => typeof (preset as unknown as Record<string, unknown>)?.[m] !== 'function');
  if (typeof preset?.name !== 'string') missing.unshift('name' as never);
  if (missing.length > 0) {
    throw new FleetsimError('FLEETSIM_E_PRESET_MODULE', `module preset ${p.file} does not implement the preset interface: missing ${missing.join(', ')}`, { hint: 'see docs/presets.md for each member' });
  }
  return factory;
}
