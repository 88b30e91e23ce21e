import { afterEach, describe, expect, test, vi } from 'vitest';
import { WallScheduler } from '../../src/engine/clock/wall-scheduler.js';
import { waitFor } from '../helpers/wait-for.js';

afterEach(() => {
  vi.restoreAllMocks();
});

// Time order, ties, late events and chains: the Schedule contract (test/unit/schedule.contract.test.ts).
describe('wall-clock scheduler', () => {
  test('does not spin while waiting for events at fractional milliseconds', async () => {
    // Thousands of events spread over fractional times, each rescheduling itself far ahead: the
    // scheduler must wake about once per due event, not re-arm the same timer in a busy loop
    // (it did: a timer armed inside the timers phase fired again in the same pass, 400 times a ms).
    // Every wake of the scheduler arms at least one Node timer (setTimeout or setImmediate), so
    // the timers it arms bound its wakes from above; they are counted at Node's timer API, the
    // scheduler's only way to be woken (wait-for.ts polls with timers captured before the spies).
    const DEVICES = 5000;
    let events = 0;
    let s!: WallScheduler;
    s = new WallScheduler(1, (kind, dev, t) => {
      events++;
      s.at(t + 60_000, dev, kind);
    });
    for (let dev = 0; dev < DEVICES; dev++) s.at(((dev * 7919) % DEVICES) * 0.1 + 0.37, dev, 1);
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    s.start(Date.now());
    try {
      await waitFor(() => events === DEVICES, `all ${DEVICES} first events`);
    } finally {
      s.stop();
    }
    const armed = timeouts.mock.calls.length + immediates.mock.calls.length;
    expect(armed).toBeGreaterThan(0);
    // About one timer per turn plus one setImmediate per spurious wake; a spinning scheduler arms
    // hundreds per millisecond.
    expect(armed).toBeLessThan(3 * events);
  });
});
