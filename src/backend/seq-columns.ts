import { grown } from '../collections/grown.js';
import { MAX_TRACKED_SEQ, SeqTracker } from './telemetry-counts.js';

/**
 * Exact per-device accounting of received telemetry sequence numbers (as SeqTracker), for every
 * device of the embedded backend's store at once, in typed arrays indexed by device number.
 *
 * A device is `low` (every sequence number below it has arrived) plus a 32-bit window for the
 * numbers `low + 1 … low + 32`: telemetry arrives in order or nearly so, `low` moves up as it
 * does, and the window stays almost empty. That costs 13 bytes per device instead of a SeqTracker
 * object and its bitmap array (~0.1 KiB). A device whose numbers run more than 32 past its lowest
 * missing one (a message lost for good, then 32 more) moves to a SeqTracker of its own, with
 * everything it had received, so the counts stay exact whatever arrives.
 *
 * Concurrency: used only from the backend's event loop; no locking.
 */
export class SeqColumns {
  /** Every sequence number below low[k] has been received. */
  private low = new Uint32Array(0);
  /** Bit b: sequence number low[k] + 1 + b has been received. */
  private window = new Int32Array(0);
  /** Duplicates counted while the device was in the window (a spilled device's tracker counts its own after). */
  private dups = new Uint32Array(0);
  /** Devices past their window, by device number (rare: only after a lost message). */
  private readonly spilled = new Map<number, SeqTracker>();

  /** Makes room for devices [0, capacity) (capacity only grows). */
  resize(capacity: number): void {
    this.low = grown(this.low, capacity);
    this.window = grown(this.window, capacity);
    this.dups = grown(this.dups, capacity);
  }

  /** Records one message of device `k`; false (nothing recorded) when `seq` is not trackable. */
  record(k: number, seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_TRACKED_SEQ) return false;
    const spilled = this.spilled.size === 0 ? undefined : this.spilled.get(k);
    if (spilled !== undefined) return spilled.record(seq);
    const low = this.low[k];
    if (seq < low) {
      this.dups[k]++;
      return true;
    }
    if (seq === low) {
      // Slide: every received number right after the new lowest one moves out of the window too.
      let w = this.window[k];
      let next = low + 1;
      while ((w & 1) !== 0) {
        w >>>= 1;
        next++;
      }
      this.low[k] = next;
      this.window[k] = w >>> 1;
      return true;
    }
    const d = seq - low - 1;
    if (d >= 32) {
      const t = SeqTracker.fromWindow(low, this.window[k]);
      this.spilled.set(k, t);
      return t.record(seq);
    }
    const bit = 1 << d;
    if ((this.window[k] & bit) !== 0) this.dups[k]++;
    else this.window[k] |= bit;
    return true;
  }

  /** Distinct sequence numbers received from device `k`. */
  received(k: number): number {
    const t = this.spilled.size === 0 ? undefined : this.spilled.get(k);
    return t !== undefined ? t.received : this.low[k] + popcount(this.window[k]);
  }

  duplicates(k: number): number {
    const t = this.spilled.size === 0 ? undefined : this.spilled.get(k);
    return this.dups[k] + (t !== undefined ? t.duplicates : 0);
  }

  /** Highest sequence number received from device `k`, or -1. */
  maxSeq(k: number): number {
    const t = this.spilled.size === 0 ? undefined : this.spilled.get(k);
    if (t !== undefined) return t.maxSeq;
    const w = this.window[k];
    return w === 0 ? this.low[k] - 1 : this.low[k] + 32 - Math.clz32(w);
  }

  /** Sequence numbers below the highest one seen that never arrived. */
  gaps(k: number): number {
    return this.maxSeq(k) + 1 - this.received(k);
  }

  /** Devices that left their window for a SeqTracker (for memory accounting and tests). */
  get spilledDevices(): number {
    return this.spilled.size;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
