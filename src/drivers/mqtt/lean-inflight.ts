/**
 * Packet ids in flight on one lean connection, mapped to the caller's tokens, without an object
 * per message. Ids are handed out in sequence (1..65535, wrapping) and acks come back roughly in
 * order, so the table is a power-of-two array indexed by `packetId & mask`: lookup and release
 * are one index operation. When the slot for the next id is still taken and the table is at least
 * half full it doubles; otherwise that id is skipped.
 *
 * Memory: a session that has one message in flight at a time (telemetry at QoS 1 every few
 * seconds or minutes, acked in milliseconds) keeps it in two plain fields (`soloId`, `soloToken`)
 * and never gets the table; the table is created only when a second id is taken while the first is
 * still in flight. The two typed arrays cost ~430 bytes of V8 heap per connection (two
 * JSTypedArrays, two JSArrayBuffers and their elements, heap snapshot of a shard process holding
 * 19,000 sessions, bench/RESULTS.md), paid by every device that ever published at QoS 1.
 */

export interface InflightIds {
  /** slot -> packet id in flight there (0 = free). */
  ids: Uint16Array | null;
  /** slot -> caller token (NaN for a SUBSCRIBE, which has no token). */
  tokens: Float64Array | null;
  /** The last packet id handed out. */
  lastId: number;
  /** How many ids are in flight. */
  inflight: number;
  /** The one id in flight while there is no table (0 = none). */
  soloId: number;
  /** Its caller token. */
  soloToken: number;
}

const INITIAL_CAPACITY = 4;
const MAX_IDS = 65_535;

/** Reserves the next free packet id for `token`. Returns 0 when all 65,535 ids are in flight. */
export function reservePacketId(t: InflightIds, token: number): number {
  if (t.inflight >= MAX_IDS) return 0;
  let id = t.lastId === MAX_IDS ? 1 : t.lastId + 1;
  if (t.ids === null) {
    if (t.soloId === 0) {
      // Nothing in flight without a table: the next id in sequence is free.
      t.soloId = id;
      t.soloToken = token;
      t.lastId = id;
      t.inflight = 1;
      return id;
    }
    // A second id while the first is in flight: move the first into a new table.
    t.ids = new Uint16Array(INITIAL_CAPACITY);
    t.tokens = new Float64Array(INITIAL_CAPACITY);
    const slot = t.soloId & (INITIAL_CAPACITY - 1);
    t.ids[slot] = t.soloId;
    t.tokens[slot] = t.soloToken;
    t.soloId = 0;
  }
  while (t.ids[id & (t.ids.length - 1)] !== 0) {
    if (t.inflight * 2 >= t.ids.length && t.ids.length <= MAX_IDS) {
      grow(t);
    } else {
      // Plenty of free slots, so an old id is holding this one: skip it (an id whose slot is free
      // cannot itself be in flight, since every id in flight sits in its own slot).
      id = id === MAX_IDS ? 1 : id + 1;
    }
  }
  const slot = id & (t.ids.length - 1);
  t.ids[slot] = id;
  t.tokens![slot] = token;
  t.lastId = id;
  t.inflight++;
  return id;
}

/** Frees `packetId` and returns its token; returns undefined when that id is not in flight. */
export function releasePacketId(t: InflightIds, packetId: number): number | undefined {
  if (packetId === 0) return undefined;
  if (t.soloId === packetId) {
    t.soloId = 0;
    t.inflight--;
    return t.soloToken;
  }
  if (t.ids === null) return undefined;
  const slot = packetId & (t.ids.length - 1);
  if (t.ids[slot] !== packetId) return undefined;
  t.ids[slot] = 0;
  t.inflight--;
  return t.tokens![slot];
}

/** Doubles the table (more if the ids in flight still collide), keeping every entry. */
function grow(t: InflightIds): void {
  const oldIds = t.ids!;
  const oldTokens = t.tokens!;
  let capacity = oldIds.length * 2;
  for (;;) {
    const ids = new Uint16Array(capacity);
    const tokens = new Float64Array(capacity);
    let collided = false;
    for (let i = 0; i < oldIds.length && !collided; i++) {
      const id = oldIds[i];
      if (id === 0) continue;
      const slot = id & (capacity - 1);
      if (ids[slot] !== 0) collided = true;
      ids[slot] = id;
      tokens[slot] = oldTokens[i];
    }
    if (!collided) {
      t.ids = ids;
      t.tokens = tokens;
      return;
    }
    capacity *= 2;
  }
}
