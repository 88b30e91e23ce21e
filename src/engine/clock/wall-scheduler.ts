import { EventHeap } from './event-heap.js';
import type { Schedule } from '../../fleet/schedule.js';
import { epochNow } from './epoch-clock.js';

export type Dispatch = (kind: number, dev: number, timeMs: number) => void;

/** Work done in one turn before yielding to I/O, so sockets are served while a burst is due. */
const TURN_BUDGET_MS = 8;

/**
 * The wall-clock scheduler of one shard: a single heap of device events and a single timer for
 * the earliest one, instead of a timer per device. Simulated time runs `timeScale` times faster
 * than wall time from a shared origin, so every shard of a run agrees on "t = 0".
 *
 * Concurrency: one per shard thread; `at` may be called from dispatch and from I/O callbacks.
 * Generator health: every event records how late it ran (wall ms); the worst lag of an interval
 * is read and reset by `takeMaxLagMs`.
 */
export class WallScheduler implements Schedule {
  private readonly heap = new EventHeap(4096);
  private originEpochMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private running = false;
  private maxLagMs = 0;
  /** True while `turn` runs events: it arms once at its end, so `at` from a dispatch does not. */
  private inTurn = false;
  private immediatePending = false;
  private readonly boundTurn = () => this.turn();
  private readonly boundImmediate = () => {
    this.immediatePending = false;
    // A timer armed meanwhile (by `at` from an I/O callback) would wake the loop again for nothing.
    if (this.timer) clearTimeout(this.timer);
    this.turn();
  };
  /** When the last turn began (epoch ms): the next wake is no sooner than `wakeQuantumMs` after it. */
  private lastTurnAt = -Infinity;
  private armPending = false;
  private readonly boundDeferredArm = () => {
    this.armPending = false;
    this.arm();
  };

  /**
   * @param wakeQuantumMs least wall time between two wakes for future events (0: wake for each).
   *   Events due inside it run together at its end, late by less than it (and counted as lag).
   */
  constructor(
    private readonly timeScale: number,
    private readonly dispatch: Dispatch,
    private readonly wakeQuantumMs = 0,
  ) {}

  start(originEpochMs: number): void {
    this.originEpochMs = originEpochMs;
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.heap.clear();
  }

  now(): number {
    return (epochNow() - this.originEpochMs) * this.timeScale;
  }

  measureNow(): number {
    return epochNow();
  }

  measureAt(simMs: number): number {
    return this.originEpochMs + simMs / this.timeScale;
  }

  measureInto(times: Float64Array): void {
    times[0] = this.measureAt(times[0]);
    times[1] = this.measureNow();
  }

  at(timeMs: number, dev: number, kind: number): void {
    this.heap.push(timeMs, dev, kind);
    // Inside a turn the turn arms at its end. Arming here would see the turn's own due events
    // and queue a setImmediate for them: a second, empty turn after nearly every wake (each
    // report plans the next one from inside its dispatch) and another timer.
    if (this.running && !this.inTurn && timeMs < this.armedFor) this.arm();
  }

  get pending(): number {
    return this.heap.size;
  }

  takeMaxLagMs(): number {
    // Events still waiting past their time count too: a stalled loop must not look healthy.
    const overdue = this.running && this.heap.size > 0 ? (this.now() - this.heap.peekTime()) / this.timeScale : 0;
    const lag = Math.max(this.maxLagMs, overdue);
    this.maxLagMs = 0;
    return lag;
  }

  private arm(): void {
    if (!this.running) return;
    const next = this.heap.peekTime();
    if (next === Infinity) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
      return;
    }
    let delayWall = Math.max(0, (next - this.now()) / this.timeScale);
    // A backlog (an event due now) runs at once; a future event waits for the quantum's end.
    if (delayWall > 0) delayWall = Math.max(delayWall, this.lastTurnAt + this.wakeQuantumMs - epochNow());
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = next;
    if (delayWall === 0) {
      this.timer = undefined;
      if (!this.immediatePending) {
        this.immediatePending = true;
        setImmediate(this.boundImmediate);
      }
    } else {
      this.timer = setTimeout(this.boundTurn, Math.ceil(delayWall));
    }
  }

  private turn(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (!this.running) return;
    const turnStart = epochNow();
    this.lastTurnAt = turnStart;
    const heap = this.heap;
    let now = this.now();
    let n = 0;
    this.inTurn = true;
    try {
      while (heap.size > 0 && heap.peekTime() <= now) {
        const t = heap.peekTime();
        const dev = heap.topDev();
        const kind = heap.topKind();
        heap.pop();
        const lag = (now - t) / this.timeScale;
        if (lag > this.maxLagMs) this.maxLagMs = lag;
        this.dispatch(kind, dev, t);
        if (!this.running) return;
        if ((++n & 255) === 0) {
          if (epochNow() - turnStart > TURN_BUDGET_MS) break;
          now = this.now();
        }
      }
    } finally {
      this.inTurn = false;
    }
    if (n > 0) return this.arm();
    // Woken with nothing due: a timer armed from inside Node's timers phase can be judged expired
    // in that same pass and fire again at once, for ever, until the clock catches up (measured:
    // 400 wakes per ms, a third of a shard's CPU with 100k sleepy devices). Arming from the check
    // phase instead breaks the cycle; it costs one setImmediate per spurious wake.
    if (!this.armPending) {
      this.armPending = true;
      setImmediate(this.boundDeferredArm);
    }
  }
}
