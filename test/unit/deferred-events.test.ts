import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../src/engine/clock/virtual-scheduler.js';
import { uniform } from '../../src/models/rng.js';

/** Event kinds of the model below. */
const REPORT = 1;
const ACK = 2;
const FLIP = 3;
const SAME_TIME = 4;
const LATER = 5;

interface Trace {
  /** Per device: every event it saw, as "kind@time". */
  seen: string[][];
  /** Per boundary: how many events each device had seen when the boundary was reached. */
  atBoundary: number[][];
  events: number;
}

/**
 * A fleet whose every handler is device-local, as defer requires: reports every ~900 ms that
 * ask for an ack ~5-60 ms later (deferred, or queued with `at`), link flips at random times,
 * acks that sometimes send another message (a deferred ack behind the first), events scheduled
 * at the very time of the ack that schedules them (ties broken by sequence number), and events
 * an ack schedules up to 200 ms on.
 * `defer` false runs the same model with every ack queued: the reference.
 */
function run(devices: number, defer: boolean, untilMs: number, sliceMs: number, budget: number, boundaries = false): Trace {
  const seen: string[][] = Array.from({ length: devices }, () => []);
  const draws = new Uint32Array(devices);
  const u = (dev: number) => uniform(7, dev, 1, draws[dev]++);
  const ack = (at: number, dev: number) => (defer ? s.defer(at, dev, ACK) : s.at(at, dev, ACK));
  const s: VirtualScheduler = new VirtualScheduler((kind, dev) => {
    const t = s.now();
    seen[dev].push(`${kind}@${t}`);
    if (kind === REPORT) {
      s.at(t + 810 + 180 * u(dev), dev, REPORT);
      ack(t + 5 + 55 * u(dev), dev);
    } else if (kind === ACK) {
      const x = u(dev);
      if (x < 0.2) ack(t + 1 + 30 * u(dev), dev);
      else if (x < 0.3) s.at(t, dev, SAME_TIME);
      else if (x < 0.35) s.at(t + 2, dev, FLIP);
      // An event up to 200 ms on, past the next boundary when the ack runs at one.
      else if (x < 0.5) s.at(t + 1 + 200 * u(dev), dev, LATER);
    } else if (kind === FLIP) {
      s.at(t + 3000 * u(dev), dev, FLIP);
      // An ack deferred at a time equal to an event already queued for the device.
      if (u(dev) < 0.1) ack(t, dev);
    }
  });
  if (defer) s.deferDeviceEvents(devices);
  for (let dev = 0; dev < devices; dev++) {
    s.at(900 * u(dev), dev, REPORT);
    s.at(3000 * u(dev), dev, FLIP);
  }
  const atBoundary: number[][] = [];
  // runUntil with interval boundaries, or runFor one slice at a time.
  if (boundaries) s.runUntil(untilMs, sliceMs, () => atBoundary.push(seen.map((l) => l.length)));
  else {
    for (let until = sliceMs; until <= untilMs; until += sliceMs) {
      while (!s.runFor(until, budget)) {
        /* another slice */
      }
      expect(s.now()).toBe(until);
      atBoundary.push(seen.map((l) => l.length));
    }
  }
  return { seen, atBoundary, events: s.processed };
}

describe('VirtualScheduler deferred events', () => {
  it('gives every device exactly the events, times and order that queueing them gives', () => {
    const want = run(300, false, 20_000, 1000, 5000);
    const got = run(300, true, 20_000, 1000, 5000);
    expect(got.events).toBe(want.events);
    const at = got.seen.findIndex((l, dev) => l.join() !== want.seen[dev].join());
    expect(at, at >= 0 ? `device ${at}: ${got.seen[at].slice(0, 12).join()} vs ${want.seen[at].slice(0, 12).join()}` : '').toBe(-1);
  });

  it('runs everything deferred before a slice ends within that slice, whatever the event budget', () => {
    const want = run(200, false, 10_000, 250, 1e9);
    for (const budget of [1, 7, 1e9]) {
      const got = run(200, true, 10_000, 250, budget);
      expect(got.atBoundary).toEqual(want.atBoundary);
    }
  });

  it('runUntil: the same events in every interval, and a boundary sees all that was deferred before it', () => {
    // Few devices too: between their events the queue is empty for long stretches, so an event a
    // deferred ack schedules just past a boundary comes before the next queued one.
    for (const devices of [200, 5]) {
      const want = run(devices, false, 10_000, 250, 0, true);
      const got = run(devices, true, 10_000, 250, 0, true);
      expect(got.atBoundary.length).toBe(40);
      expect(got.atBoundary).toEqual(want.atBoundary);
      expect(got.seen).toEqual(want.seen);
    }
  });

  it('keeps deferred events out of the queue and counts them as pending and processed', () => {
    let handled = 0;
    const s = new VirtualScheduler(() => handled++);
    s.deferDeviceEvents(4);
    s.defer(10, 1, ACK);
    s.defer(20, 1, ACK);
    s.at(15, 2, REPORT);
    expect(s.pending).toBe(3);
    expect(s.runFor(12, 100)).toBe(true);
    expect(handled).toBe(1);
    expect(s.runFor(100, 100)).toBe(true);
    expect(handled).toBe(3);
    expect(s.pending).toBe(0);
    expect(s.processed).toBe(3);
  });

  it('queues an event deferred earlier than its device\'s last deferred one, and still runs it in order', () => {
    const order: string[] = [];
    const s = new VirtualScheduler((kind, dev) => order.push(`${dev}:${kind}@${s.now()}`));
    s.deferDeviceEvents(2);
    s.defer(50, 0, ACK);
    s.defer(30, 0, FLIP); // earlier than 50: queued, and runs first
    s.at(40, 0, REPORT);
    s.runFor(100, 100);
    expect(order).toEqual(['0:3@30', '0:1@40', '0:2@50']);
  });

  it('runs a deferred event before its device\'s queued event at the same time only when it was scheduled first', () => {
    const order: string[][] = [[], []];
    const s = new VirtualScheduler((kind, dev) => order[dev].push(`${kind}`));
    s.deferDeviceEvents(2);
    s.at(10, 0, REPORT);
    s.defer(10, 0, ACK);
    s.defer(10, 1, ACK);
    s.at(10, 1, FLIP);
    s.runFor(20, 100);
    // Each device in (time, seq) order; between devices the order is free.
    expect(order).toEqual([[`${REPORT}`, `${ACK}`], [`${ACK}`, `${FLIP}`]]);
  });

  it('still defers past 65,535 pending events, by queueing the rest', () => {
    let handled = 0;
    const s = new VirtualScheduler(() => handled++);
    const n = 70_000;
    s.deferDeviceEvents(n);
    for (let dev = 0; dev < n; dev++) s.defer(1000 + dev, dev, ACK);
    expect(s.pending).toBe(n);
    expect(s.runFor(1000 + n, 1e9)).toBe(true);
    expect(handled).toBe(n);
    expect(s.pending).toBe(0);
    // Exactly as many ran deferred as the records' 16-bit entry numbers can name.
    expect(s.deferredProcessed).toBe(65_535);
  });

  it('without deferDeviceEvents, defer is at', () => {
    const order: number[] = [];
    const s = new VirtualScheduler((kind) => order.push(kind));
    s.defer(20, 0, ACK);
    s.at(10, 0, REPORT);
    s.runFor(30, 10);
    expect(order).toEqual([REPORT, ACK]);
  });
});
