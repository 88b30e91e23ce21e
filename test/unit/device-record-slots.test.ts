import { describe, expect, it } from 'vitest';
import { DeviceTable, RECORD_BYTES, Rec32, RecF64 } from '../../src/fleet/device-table.js';
import { EVENT_KIND_LIMIT, inKindRange, KindAllocator, KIND_REGIONS } from '../../src/fleet/event-kinds.js';
import { ModelDriver } from '../../src/drivers/model/model-driver.js';
import { MODEL_DRIVER_KIND_COUNT } from '../../src/drivers/model/model-event-kinds.js';
import { MODEL_DRIVER_SLOTS } from '../../src/drivers/model/device-records.js';
import { DEFAULT_BACKEND_MODEL } from '../../src/drivers/model/backend-model.js';

const noEvents = { onProvisioned() {}, onConnected() {}, onTelemetryAcked() {}, onConnectionLost() {}, onPolled() {} };

describe('DeviceTable.reserveSlots', () => {
  it("places the model driver's fields where the record layout wants them: ack clock and draws on the report's line", () => {
    const table = new DeviceTable(4, 0);
    const slots = table.reserveSlots('model driver', MODEL_DRIVER_SLOTS);
    expect(slots.recordBytes).toBe(RECORD_BYTES);
    expect(slots.buffer).toBe(table.bytes.buffer);
    for (const f of MODEL_DRIVER_SLOTS) {
      const offset = slots[f.name];
      expect(offset % f.bytes, f.name).toBe(0);
      expect(offset < RECORD_BYTES / 2, f.name).toBe(f.line === 'hot');
    }
    // The layout before reservations existed (bench/RESULTS.md measured it): unchanged.
    expect({ lastAckAt: slots.lastAckAt, draws: slots.draws, session: slots.session, pendingHttp: slots.pendingHttp, pendingConnect: slots.pendingConnect }).toEqual({
      lastAckAt: 32,
      draws: 52,
      session: 60,
      pendingHttp: 100,
      pendingConnect: 104,
    });
  });

  it("never hands out a byte of the table's own fields or of an earlier reservation", () => {
    const table = new DeviceTable(1, 0);
    const taken = new Set<number>();
    const own = (offset: number, width: number) => Array.from({ length: width }, (_, i) => offset * width + i);
    for (const o of Object.values(RecF64)) own(o, 8).forEach((b) => taken.add(b));
    for (const o of Object.values(Rec32)) own(o, 4).forEach((b) => taken.add(b));
    for (const b of [56, 57, 58, 59, 108, 109]) taken.add(b); // group, state, flags, attempts
    const all = table.reserveSlots('a', MODEL_DRIVER_SLOTS);
    const more = table.reserveSlots('b', [{ name: 'x', bytes: 2, line: 'cold' }, { name: 'y', bytes: 1, line: 'hot' }]);
    const fields = [...MODEL_DRIVER_SLOTS.map((f) => [all[f.name], f.bytes] as const), [more.x, 2] as const, [more.y, 1] as const];
    for (const [offset, width] of fields) {
      for (let b = offset; b < offset + width; b++) {
        expect(taken.has(b), `byte ${b}`).toBe(false);
        taken.add(b);
      }
    }
  });

  it('refuses a reservation that does not fit its line', () => {
    const table = new DeviceTable(1, 0);
    expect(() => table.reserveSlots('greedy', Array.from({ length: 9 }, (_, i) => ({ name: `f${i}`, bytes: 8 as const, line: 'hot' as const })))).toThrow(/greedy: no free 8-byte slot on the hot line/);
  });

  it('the reserved slots are the ones the model driver writes (a draw counter moves in the shared record)', () => {
    const table = new DeviceTable(2, 0);
    const slots = table.reserveSlots('model driver', MODEL_DRIVER_SLOTS);
    const clock = { now: () => 0, at() {} };
    const driver = new ModelDriver(DEFAULT_BACKEND_MODEL, 2, 0, 1, clock, noEvents, slots, KIND_REGIONS.driver);
    driver.connect(1);
    expect(new Uint32Array(table.bytes.buffer)[(RECORD_BYTES + slots.draws) / 4]).toBeGreaterThan(0);
    expect(new Uint32Array(table.bytes.buffer)[slots.draws / 4]).toBe(0);
  });
});

describe('event kinds', () => {
  it('the regions tile the one-byte space without overlap', () => {
    const { lifecycle, behaviours, driver } = KIND_REGIONS;
    expect(lifecycle.first + lifecycle.count).toBe(behaviours.first);
    expect(behaviours.first + behaviours.count).toBe(driver.first);
    expect(driver.first + driver.count).toBe(EVENT_KIND_LIMIT);
  });

  it('an allocator hands out consecutive ranges and refuses to leave its region', () => {
    const kinds = new KindAllocator(KIND_REGIONS.behaviours);
    expect(kinds.take('ota', 6)).toEqual({ first: 32, count: 6 });
    expect(kinds.take('config', 1)).toEqual({ first: 38, count: 1 });
    expect(() => kinds.take('huge', KIND_REGIONS.behaviours.count)).toThrow(/huge: 68 event kinds do not fit in \[39, 100\)/);
  });

  it('the model driver claims only the kinds it was handed (a kind past its range is not its own)', () => {
    const clock = { now: () => 0, at() {} };
    const driver = new ModelDriver(DEFAULT_BACKEND_MODEL, 1, 0, 1, clock, noEvents, undefined, KIND_REGIONS.driver);
    expect(driver.owns(KIND_REGIONS.driver.first)).toBe(true);
    expect(driver.owns(KIND_REGIONS.driver.first + MODEL_DRIVER_KIND_COUNT - 1)).toBe(true);
    expect(driver.owns(KIND_REGIONS.driver.first - 1)).toBe(false);
    expect(driver.owns(KIND_REGIONS.driver.first + MODEL_DRIVER_KIND_COUNT)).toBe(false);
    expect(inKindRange(KIND_REGIONS.driver, KIND_REGIONS.driver.first + MODEL_DRIVER_KIND_COUNT - 1)).toBe(true);
  });

  it('every event the model driver schedules is a kind it owns', () => {
    const scheduled: number[] = [];
    const clock = { now: () => 0, at: (_t: number, _dev: number, kind: number) => void scheduled.push(kind) };
    const driver = new ModelDriver(DEFAULT_BACKEND_MODEL, 1, 0, 1, clock, noEvents, undefined, KIND_REGIONS.driver);
    driver.provision(0, 'd-0');
    driver.connect(0);
    driver.pollTarget(0);
    driver.downloadChunk(0, { name: 'a', kind: 'full', size: 10, sha256: '' }, 0, 10);
    expect(scheduled.length).toBe(4);
    for (const k of scheduled) expect(driver.owns(k), String(k)).toBe(true);
  });
});
