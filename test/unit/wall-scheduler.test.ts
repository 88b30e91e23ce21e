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

  test('a step of the system clock is neither lag nor a reason to fire early (the clock is monotonic)', async () => {
    // timesyncd steps the clock of a virtual machine its host paused: a wall-clock run read a
    // 10.7 s step forward as 10.7 s of lag in every shard and fired 458 power-ons in one second.
    const STEP_MS = 10_000;
    const fired: number[] = [];
    const s = new WallScheduler(1, (_kind, _dev, t) => fired.push(t));
    const started = performance.now();
    s.start(Date.now());
    s.at(300, 0, 1);
    const realNow = Date.now;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + STEP_MS);
    try {
      await waitFor(() => fired.length === 1, 'the event at 300 ms');
      const firedAfter = performance.now() - started;
      // Not early: the event waited its 300 ms of monotonic time (timers may round down by 1 ms).
      expect(firedAfter).toBeGreaterThanOrEqual(299);
      // Not late by the step: its lag is the timer's, far below the 10 s step.
      expect(s.takeMaxLagMs()).toBeLessThan(STEP_MS / 2);
    } finally {
      s.stop();
    }
  });
  test('with a wake quantum, events due close together run in one wake, none early', async () => {
    // 200 events 5 ms apart (1 s): without a quantum about one wake each; with 50 ms at most about
    // one wake per 50 ms (20), each running the events that came due inside it.
    const QUANTUM_MS = 50;
    const EVENTS = 200;
    const early: number[] = [];
    let fired = 0;
    let origin = 0;
    const s = new WallScheduler(
      1,
      (_kind, _dev, t) => {
        fired++;
        // Not early: an event never runs before its time (timers may round down by 1 ms).
        if (performance.timeOrigin + performance.now() < origin + t - 1) early.push(t);
      },
      QUANTUM_MS,
    );
    for (let i = 0; i < EVENTS; i++) s.at(20 + 5 * i, i, 1);
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    origin = performance.timeOrigin + performance.now();
    s.start(origin);
    try {
      await waitFor(() => fired === EVENTS, `all ${EVENTS} events`);
    } finally {
      s.stop();
    }
    expect(early).toEqual([]);
    // One timer per wake: ~20 over the second the events span, with a margin for the first wake.
    expect(timeouts.mock.calls.length).toBeLessThanOrEqual(1000 / QUANTUM_MS + 5);
  });

  test('events that plan their next event from inside the turn arm one timer per wake and no setImmediate', async () => {
    // Every report plans the next one from its dispatch (fleet/lifecycle.ts). The scheduler armed
    // on each such `at` while the turn's other due events were still in the heap, so it queued a
    // setImmediate for them: after nearly every wake an empty second turn, a deferred re-arm and
    // a second timer (in a shard process at the 500k density, ~50 extra turns a second).
    const QUANTUM_MS = 50;
    const EVENTS = 200;
    let fired = 0;
    let s!: WallScheduler;
    s = new WallScheduler(
      1,
      (kind, dev, t) => {
        fired++;
        s.at(t + 600_000, dev, kind);
      },
      QUANTUM_MS,
    );
    for (let i = 0; i < EVENTS; i++) s.at(20 + 5 * i, i, 1);
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    s.start(performance.timeOrigin + performance.now());
    try {
      await waitFor(() => fired === EVENTS, `all ${EVENTS} events`);
    } finally {
      s.stop();
    }
    // No backlog here (a turn runs ~10 events, far inside its budget): nothing for the check phase.
    expect(immediates.mock.calls.length).toBeLessThan(5); // the old code: ~2 per wake, ~40 here
    expect(timeouts.mock.calls.length).toBeLessThanOrEqual(1000 / QUANTUM_MS + 5);
  });
});
