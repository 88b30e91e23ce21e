/**
 * What device behaviour needs from a clock: the current time and a way to be called back at a
 * later time. Implemented by engine/ (wall clock and virtual clock); fleet/ never knows which.
 * Times are simulated milliseconds since the run started. Events are (device, kind) pairs: no
 * closure per event, the scheduler hands them back to one dispatch function. Kinds are handed
 * out by event-kinds.ts.
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
  /**
   * `times[0] = measureAt(times[0]); times[1] = measureNow()`, in place. For the hot path of a
   * report (fleet/telemetry-pipeline.ts): a fraction returned from a call V8 does not inline is a
   * new HeapNumber, and with the pipeline's inlining budget spent `measureNow` was such a call, one
   * per report; through the array the times stay raw doubles.
   */
  measureInto(times: Float64Array): void;
}
