import { pickCells } from '../models/correlated-outage.js';
import { Stream, uniform } from '../models/rng.js';
import type { FaultPhase } from './spec.js';

/** The fleet as the fault proxy needs it: how serials are made and what each group is. */
export interface FleetShape {
  seed: number;
  /** Serial prefix: device g has serial `${serialPrefix}-${g}` (engine/shard/assembly.ts). */
  serialPrefix: string;
  devices: number;
  groups: ReadonlyArray<{ firstDevice: number; count: number; profile: string; link: string; cells?: number }>;
}

/** The shape of a scenario's fleet (a resolved scenario, structurally: faults/ does not import scenario/). */
export function fleetShapeOf(s: { seed: number; name: string; devices: number; fleet: ReadonlyArray<{ firstDevice: number; count: number; profile: string; link: string; cells?: number }> }): FleetShape {
  return { seed: s.seed, serialPrefix: s.name, devices: s.devices, groups: s.fleet.map((g) => ({ firstDevice: g.firstDevice, count: g.count, profile: g.profile, link: g.link, ...(g.cells === undefined ? {} : { cells: g.cells }) })) };
}

/** Counter offsets of the fault stream: a phase's device pick, its session pick, its request picks. */
const PICK_DEVICE = 0;
const PICK_SESSION = 1 << 20;
const PICK_CONNECTION = 2 << 20;

/**
 * Which device a connection belongs to, and whether a phase applies to it. The proxy sees
 * serials (provisioning bodies), device ids (HTTP paths, MQTT client ids) and learns the
 * id a backend gives each serial from its provisioning answers; an id it never learned is read
 * as `…${serialPrefix}-<index>` (the embedded backend's `d-<serial>`). Scope membership is drawn
 * per device from the fault stream, so it is the same for every connection of the device.
 */
export class FleetMap {
  private readonly learned = new Map<string, number>();
  private readonly members = new Map<number, Uint8Array>();
  private readonly marker: string;

  constructor(private readonly shape: FleetShape) {
    this.marker = `${shape.serialPrefix}-`;
  }

  /** Remembers the device id a backend gave the device of `serial`. */
  learn(deviceId: string, serial: string): void {
    const dev = this.fromSerial(serial);
    if (dev >= 0) this.learned.set(deviceId, dev);
  }

  /** Global index of the device a serial, device id or MQTT client id names; -1 when unknown. */
  indexOf(identifier: string): number {
    const known = this.learned.get(identifier);
    if (known !== undefined) return known;
    return this.fromSerial(identifier);
  }

  private fromSerial(text: string): number {
    const at = text.lastIndexOf(this.marker);
    if (at < 0) return -1;
    const digits = text.slice(at + this.marker.length);
    if (!/^\d{1,15}$/.test(digits)) return -1;
    const dev = Number(digits);
    return dev < this.shape.devices ? dev : -1;
  }

  /** Whether `phase` applies to device `dev` (-1, unknown: only when the phase has no scope). */
  inScope(phase: FaultPhase, dev: number): boolean {
    const s = phase.scope;
    const scoped = s.devices !== undefined || s.profile !== undefined || s.link !== undefined || s.cells !== undefined;
    if (!scoped) return true;
    if (dev < 0) return false;
    let m = this.members.get(phase.index);
    if (m === undefined) this.members.set(phase.index, (m = this.membership(phase)));
    return m[dev] === 1;
  }

  /** Whether a session of `dev` is among the `share` a phase picks (the same pick for all its sessions). */
  pickSession(phase: FaultPhase, dev: number, share: number): boolean {
    if (share >= 1) return true;
    return uniform(this.shape.seed, Math.max(dev, 0), Stream.fault, PICK_SESSION + phase.index) < share;
  }

  /**
   * Whether connection number `conn` (in accept order) is among the `share` a phase picks: for a
   * proxy that cannot see which device a connection is (TLS), keyed like a device by its number.
   */
  pickConnection(phase: FaultPhase, conn: number, share: number): boolean {
    if (share >= 1) return true;
    return uniform(this.shape.seed, conn, Stream.fault, PICK_CONNECTION + phase.index) < share;
  }

  private membership(phase: FaultPhase): Uint8Array {
    const { seed, devices, groups } = this.shape;
    const s = phase.scope;
    const out = new Uint8Array(devices);
    let cellBase = 0;
    const cellCount = groups.reduce((a, g) => a + (g.cells ?? 0), 0);
    const picked = new Uint8Array(cellCount);
    if (s.cells !== undefined) for (const c of pickCells(cellCount, s.cells, seed, Stream.fault * 1000 + phase.index)) picked[c] = 1;
    for (const g of groups) {
      const groupOk = (s.profile === undefined || s.profile === g.profile) && (s.link === undefined || s.link === g.link);
      for (let k = 0; k < g.count && groupOk; k++) {
        const dev = g.firstDevice + k;
        if (s.devices !== undefined && !(uniform(seed, dev, Stream.fault, PICK_DEVICE + phase.index) < s.devices)) continue;
        if (s.cells !== undefined && !(g.cells !== undefined && picked[cellBase + Math.floor((k * g.cells) / g.count)] === 1)) continue;
        out[dev] = 1;
      }
      cellBase += g.cells ?? 0;
    }
    return out;
  }
}
