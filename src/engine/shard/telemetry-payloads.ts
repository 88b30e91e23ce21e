import type { DeviceTable } from '../../fleet/device-table.js';
import type { EnergyMeter } from '../../fleet/energy-meter.js';
import { FleetDeviceFields } from '../../fleet/device-fields.js';
import { INITIAL_RELEASE_NAME } from '../../wire/reference-protocol.js';
import { compileTemplate } from '../../payload/template-compile.js';
import { TemplateFiller } from '../../payload/template-filler.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';

/**
 * What `{{ts}}` counts from on the virtual clock when the template names no `epoch`: a fixed
 * instant, so a simulation's payloads are the same every time it runs.
 */
export const VIRTUAL_EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * The shard's template filler, or undefined when the scenario pads its telemetry. Compiled here,
 * once per shard (validation compiled it once already; a failure now is a fleetsim bug).
 */
export function telemetryPayloads(
  s: ResolvedScenario,
  devices: DeviceTable,
  energy: EnergyMeter | undefined,
  releaseOf: ((dev: number) => string) | undefined,
): TemplateFiller | undefined {
  const spec = s.behaviour.telemetry?.template;
  if (spec === undefined) return undefined;
  const compiled = compileTemplate(spec);
  if (!compiled.ok) throw new Error(`telemetry template passed validation but does not compile: ${compiled.problems[0].message}`);
  const state = new FleetDeviceFields(
    {
      seed: s.seed,
      firstDevice: devices.firstDevice,
      fleetDevices: s.devices,
      arrival: s.arrival,
      groups: s.fleet.map((g) => {
        const b = g.hardware?.power.battery;
        return { link: g.link, ...(b ? { battery: { chemistry: b.chemistry, voltageV: b.voltageV } } : {}) };
      }),
      releaseOf,
      initialRelease: INITIAL_RELEASE_NAME,
    },
    devices,
    energy,
  );
  return new TemplateFiller(compiled.template, {
    seed: s.seed,
    firstDevice: devices.firstDevice,
    devices: devices.count,
    // The wall clock sets the run's start instant when it starts (setEpoch).
    epochMs: VIRTUAL_EPOCH_MS,
    serialPrefix: s.name,
    state,
  });
}
