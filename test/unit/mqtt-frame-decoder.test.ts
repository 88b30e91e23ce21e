import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { type FrameCarry, type FrameSink, decodeFrames } from '../../src/wire/mqtt-frame-decoder.js';

type Frame = { header: number; body: string };

function frames(): Buffer[] {
  return [
    mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
    mqttPacket.generate({ cmd: 'puback', messageId: 1 }),
    mqttPacket.generate({ cmd: 'suback', messageId: 2, granted: [1] }),
    mqttPacket.generate({ cmd: 'pingresp' }),
    mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false }),
    mqttPacket.generate({ cmd: 'publish', topic: 'fleet/ü/cmd', payload: Buffer.alloc(130, 7), qos: 1, messageId: 9, retain: false, dup: false }),
    mqttPacket.generate({ cmd: 'puback', messageId: 65535 }),
  ];
}

function expected(list: Buffer[]): Frame[] {
  return list.map((f) => {
    let p = 1;
    while (f[p] & 0x80) p++;
    return { header: f[0], body: f.subarray(p + 1).toString('hex') };
  });
}

/** Collects frames, copying them: like the transport, it may only read the bytes during the call. */
class Collector implements FrameSink, FrameCarry {
  carry: Buffer | null = null;
  carryLength = 0;
  readonly got: Frame[] = [];
  stopAfter = Infinity;
  onFrame(header: number, buf: Buffer, start: number, end: number): boolean {
    this.got.push({ header, body: buf.subarray(start, end).toString('hex') });
    return this.got.length < this.stopAfter;
  }
}

/** Feeds `stream` cut at `cuts` through one reused read buffer that is scribbled over after each read. */
function feed(stream: Buffer, cuts: number[], sink = new Collector()): { sink: Collector; ok: boolean } {
  const scratch = Buffer.alloc(stream.length + 16);
  let from = 0;
  let ok = true;
  for (const to of [...cuts, stream.length]) {
    const offset = 3; // the chunk does not start at index 0 of its buffer
    stream.copy(scratch, offset, from, to);
    ok = decodeFrames(sink, scratch, offset, offset + (to - from), sink) && ok;
    scratch.fill(0xaa);
    from = to;
  }
  return { sink, ok };
}

/** Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('lean MQTT frame decoder', () => {
  const list = frames();
  const stream = Buffer.concat(list);
  const want = expected(list);

  it('splits coalesced frames delivered in one read', () => {
    const { sink, ok } = feed(stream, []);
    expect(ok).toBe(true);
    expect(sink.got).toEqual(want);
    expect(sink.carry).toBeNull();
  });

  it('reassembles frames cut at every possible position, into two and three reads', () => {
    for (let a = 1; a < stream.length; a++) {
      expect(feed(stream, [a]).sink.got).toEqual(want);
      for (let b = a + 1; b < stream.length; b += 7) expect(feed(stream, [a, b]).sink.got).toEqual(want);
    }
  });

  it('reassembles a stream delivered one byte per read', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    const { sink, ok } = feed(stream, cuts);
    expect(ok).toBe(true);
    expect(sink.got).toEqual(want);
  });

  it('reassembles a large PUBLISH (3-byte length) split at random places among small frames', () => {
    const big = mqttPacket.generate({
      cmd: 'publish',
      topic: 'big',
      payload: Buffer.alloc(200_000, 3),
      qos: 1,
      messageId: 5,
      retain: false,
      dup: false,
    });
    const withBig = [...list.slice(0, 3), big, ...list.slice(3)];
    const bigStream = Buffer.concat(withBig);
    const random = rng(12345);
    for (let run = 0; run < 30; run++) {
      const cuts = new Set<number>();
      const pieces = 1 + Math.floor(random() * 40);
      while (cuts.size < pieces) cuts.add(1 + Math.floor(random() * (bigStream.length - 1)));
      const { sink, ok } = feed(bigStream, [...cuts].sort((a, b) => a - b));
      expect(ok).toBe(true);
      expect(sink.got).toEqual(expected(withBig));
    }
  });

  it('rejects a length field longer than four bytes, whole or split', () => {
    const bad = Buffer.from([0x40, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00]);
    expect(feed(bad, []).ok).toBe(false);
    expect(feed(bad, [2]).ok).toBe(false);
    expect(feed(Buffer.concat([list[1], bad]), [3]).ok).toBe(false);
  });

  it('stops when the sink says the connection is gone', () => {
    const sink = new Collector();
    sink.stopAfter = 2;
    const { ok } = feed(stream, [], sink);
    expect(ok).toBe(true);
    expect(sink.got).toEqual(want.slice(0, 2));
  });
});
