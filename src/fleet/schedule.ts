/**
 * What device behaviour needs from a clock: the current time and a way to be called back at a
 * later time. Implemented by engine/ (wall clock and virtual clock); fleet/ never knows which.
 * Times are simulated milliseconds since the run started. Events are (device, kind) pairs: no
 * closure per event, the scheduler hands them back to one dispatch function.
 */
export interface Schedule {
  now(): number;
  at(timeMs: number, dev: number, kind: number): void;
  /**
   * The measurement clock, in ms with sub-ms precision: real time on the wall clock (latencies of
   * real sockets are real, whatever `timeScale` is), simulated time on the virtual clock.
   */
  measureNow(): number;
  /** The measurement-clock time at which simulated time `simMs` was (or will be) reached. */
  measureAt(simMs: number): number;
}

/** Event kinds device behaviour schedules. Values fit in a Uint8Array. */
export const Ev = {
  powerOn: 1,
  provision: 2,
  connect: 3,
  telemetry: 4,
  poll: 5,
  /** The device's own on/off process flips. */
  linkFlip: 6,
  /** A scripted outage takes the device's link down / gives it back. */
  outageStart: 7,
  outageEnd: 8,
  /** Try again to send what the device holds (after a radio duty-cycle wait). */
  flush: 9,
  /** Messages on the wire for the device reach the backend. */
  linkDeliver: 10,
  /** The backup link's own on/off process flips. */
  backupFlip: 11,
  /** A switchover to the backup link completes. */
  switchover: 12,
} as const;
