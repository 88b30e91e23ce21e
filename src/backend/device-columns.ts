import { grown } from '../collections/grown.js';

/** Device keys are 128 random bits. */
export const KEY_BYTES = 16;
/**
 * Devices the columns start with; when full they grow by a quarter, not double, so at most a
 * fifth of them is unused (doubling left up to half: 0.05 KiB per device) while a grow, which
 * copies every column, stays rare (amortised O(1) per provisioning).
 */
export const INITIAL_DEVICES = 256;
export const GROWTH = 1.25;
/** 2^32: a rollout rank in [0, 1) is an integer number of 2^-32 (wire/rollout.ts), kept exactly in a Uint32. */
export const RANK_SCALE = 4294967296;

/**
 * The device store's per-device fields (backend/store.ts), one typed array each, indexed by device
 * number (provisioning order), grown together. Concurrency: the backend's event loop only.
 */
export class DeviceColumns {
  provisions: Uint32Array;
  polls: Uint32Array;
  stateReports: Uint32Array;
  configAcked: Uint32Array;
  artifactBytes: Float64Array;
  rank: Uint32Array;
  online: Uint8Array;
  /** Interned strings (DeviceStore.intern); 0 is ''. */
  release: Uint32Array;
  status: Uint32Array;
  /** KEY_BYTES random bytes per device. */
  keys: Uint8Array;
  constructor(n: number) {
    this.provisions = new Uint32Array(n);
    this.polls = new Uint32Array(n);
    this.stateReports = new Uint32Array(n);
    this.configAcked = new Uint32Array(n);
    this.artifactBytes = new Float64Array(n);
    this.rank = new Uint32Array(n);
    this.online = new Uint8Array(n);
    this.release = new Uint32Array(n);
    this.status = new Uint32Array(n);
    this.keys = new Uint8Array(n * KEY_BYTES);
  }
  get capacity(): number {
    return this.rank.length;
  }
  grow(n: number): void {
    this.provisions = grown(this.provisions, n);
    this.polls = grown(this.polls, n);
    this.stateReports = grown(this.stateReports, n);
    this.configAcked = grown(this.configAcked, n);
    this.artifactBytes = grown(this.artifactBytes, n);
    this.rank = grown(this.rank, n);
    this.online = grown(this.online, n);
    this.release = grown(this.release, n);
    this.status = grown(this.status, n);
    this.keys = grown(this.keys, n * KEY_BYTES);
  }
}
