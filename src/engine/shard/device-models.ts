import type { ResolvedScenario } from '../../scenario/resolved.js';
import { Reachability, type OutagePhase } from '../../fleet/reachability.js';
import { EnergyMeter, type EnergyProfileEntry } from '../../fleet/energy-meter.js';
import type { DeviceTable } from '../../fleet/device-table.js';
import type { DeviceModels } from '../../fleet/lifecycle.js';
import { energyProfileOf } from '../../models/hardware-profile.js';
import { DutyCycleGate, EU868_DUTY_CYCLE, eu868MaxAppPayload, loraAirtimeMs, LORAWAN_OVERHEAD_BYTES, loraParams } from '../../models/lorawan.js';
import type { RadioLimits } from '../../fleet/telemetry-pipeline.js';
import { LinkShaper } from '../../fleet/link-shaper.js';
import { gilbertElliottFromNetem, LinkStates, type LinkParams } from '../../models/link.js';
import { isLinkTypeName, LINK_TYPES } from '../../models/link-types.js';
import { steadyRtoMs, tcpGiveUpMs } from '../../models/tcp-retransmission.js';
import { LinkExchange } from '../../models/link-exchange.js';
import type { ResolvedFleetGroup } from '../../scenario/resolved.js';

/** A group's link: its link type's figures (models/link-types.ts), then the scenario's netem overrides. */
export function linkParamsOf(g: ResolvedFleetGroup): LinkParams {
  const base = isLinkTypeName(g.link) ? LINK_TYPES[g.link] : LINK_TYPES.ethernet;
  const n = g.netem;
  if (!n) return base;
  return {
    latency: {
      delayMs: n.delayMs ?? base.latency.delayMs,
      jitterMs: n.jitterMs ?? base.latency.jitterMs,
      distribution: n.distribution ?? base.latency.distribution,
    },
    loss: n.lossGe ? gilbertElliottFromNetem(n.lossGe[0], n.lossGe[1], n.lossGe[2], n.lossGe[3]) : n.loss !== undefined ? gilbertElliottFromNetem(0, 1, n.loss, n.loss) /* Bernoulli: always 'good', losing `loss` */ : base.loss,
    upBps: n.rateBps ?? base.upBps,
    downBps: n.rateBps ?? base.downBps,
  };
}

/**
 * Builds the device models of one shard's range from the scenario: reachability (each device's
 * own on/off process, cells and scripted outages) and energy (from each group's hardware
 * profile), and sets each device's group in `devices` (the energy meter keeps its state in their
 * records). Cell numbering is global (group by group, in `fleet:` order), so every shard agrees
 * on which devices share a cell.
 */
export function buildDeviceModels(s: ResolvedScenario, devices: DeviceTable): { models: DeviceModels; groupOf: Uint16Array; exchange?: LinkExchange } {
  const { firstDevice, count } = devices;
  const groupOf = new Uint16Array(count);
  const cellOf = new Int32Array(count).fill(-1);
  let cellBase = 0;
  for (const g of s.fleet) {
    const lo = Math.max(firstDevice, g.firstDevice);
    const hi = Math.min(firstDevice + count, g.firstDevice + g.count);
    for (let gd = lo; gd < hi; gd++) {
      groupOf[gd - firstDevice] = g.index;
      if (g.cells) cellOf[gd - firstDevice] = cellBase + Math.floor(((gd - g.firstDevice) * g.cells) / g.count);
    }
    cellBase += g.cells ?? 0;
  }
  devices.setGroups(groupOf);

  const outages: OutagePhase[] = [];
  s.phases.forEach((p, index) => {
    if (p.kind !== 'outage') return;
    const o = p.spec as { scope: 'cell' | 'device' | 'fleet'; fraction: number; durationMs: number };
    outages.push({ atMs: p.atMs, durationMs: o.durationMs, scope: o.scope, fraction: o.fraction, index });
  });
  const off = s.behaviour.offline;
  const reach =
    off || outages.length > 0
      ? new Reachability(count, firstDevice, {
          seed: s.seed,
          offline: off ? { availability: off.availability, downtime: off.downtime } : undefined,
          backup: off?.backup ? { availability: off.backup.availability, downtime: off.backup.downtime, switchoverMs: off.backup.switchoverMs } : undefined,
          cellOf,
          cellCount: cellBase,
          outages,
        })
      : undefined;

  // Energy only where every group has a hardware profile with numbers.
  let energy: EnergyMeter | undefined;
  if (s.fleet.every((g) => g.hardware !== undefined)) {
    const entries: EnergyProfileEntry[] = s.fleet.map((g) => {
      const hw = g.hardware!;
      return { name: g.profile, energy: energyProfileOf(hw), steps: { boot: hw.events.boot, attach: hw.events.attach, uplink: hw.events.uplink, poll: hw.events.poll } };
    });
    energy = new EnergyMeter(devices, entries);
  }
  // LoRaWAN devices: EU868 duty cycle per device, airtime of one telemetry frame at SF7.
  let radio: RadioLimits | undefined;
  const lora = s.fleet.filter((g) => g.link === 'lorawan');
  if (lora.length > 0 && s.behaviour.telemetry) {
    const applies = new Uint8Array(count);
    for (let dev = 0; dev < count; dev++) if (s.fleet[groupOf[dev]].link === 'lorawan') applies[dev] = 1;
    const sf = 7;
    radio = {
      gate: new DutyCycleGate(count, EU868_DUTY_CYCLE),
      applies,
      airtimeMs: loraAirtimeMs(s.behaviour.telemetry.sizeBytes + LORAWAN_OVERHEAD_BYTES, loraParams(sf)),
      maxPayloadBytes: eu868MaxAppPayload(sf),
    };
  }
  // The link in transit: each group's link type, with the scenario's netem-style overrides.
  let link: LinkShaper | undefined;
  const params: LinkParams[] = s.fleet.map((g) => linkParamsOf(g));
  if (s.options.linkModel && s.behaviour.telemetry) {
    // Telemetry rides an established connection: Linux's RTO from the link's settled RTT, not the
    // SYN's 1 s (models/tcp-retransmission.ts has the sources).
    const rto = params.map((p) => steadyRtoMs(p, s.behaviour.telemetry!.sizeBytes));
    link = new LinkShaper(new LinkStates(count, s.seed, params, groupOf, firstDevice), rto, tcpGiveUpMs());
  }
  // Every other exchange (provisioning, connects, polls, downloads, uplinks) on the same links.
  const exchange = s.options.linkModel ? LinkExchange.of(count, s.seed, params, groupOf, firstDevice) : undefined;
  return { models: { reach, energy, radio, link }, groupOf, exchange };
}
