import { describe, expect, it } from 'vitest';
import { INLINING_FLAGS, inliningFlagsToSet, SYNCHRONOUS_COMPILE_FLAG, userSetsCompileConcurrency } from '../../src/engine/shard/compiler-tuning.js';
import { shardProcessFlags } from '../../src/engine/hosting/launch.js';
import { SHARD_PROCESS_FLAGS } from '../../src/engine/hosting/process-shards.js';

describe('the inlining budget fleetsim sets', () => {
  it('sets every flag when the user set none', () => {
    expect(inliningFlagsToSet('--enable-source-maps ')).toEqual([...INLINING_FLAGS]);
  });

  it('leaves a flag the user set alone, in either of node\'s spellings, and still sets the others', () => {
    const size = INLINING_FLAGS.find((f) => f.startsWith('--max-inlined-bytecode-size='))!;
    const cumulative = INLINING_FLAGS.find((f) => f.includes('-cumulative='))!;
    expect(inliningFlagsToSet('--max-inlined-bytecode-size-small=10')).toEqual([size, cumulative]);
    expect(inliningFlagsToSet(' --max_inlined_bytecode_size_small=10')).toEqual([size, cumulative]);
    expect(inliningFlagsToSet('--max_inlined_bytecode_size_cumulative=500 --max-inlined-bytecode-size-small=10')).toEqual([size]);
    expect(inliningFlagsToSet('--max-inlined-bytecode-size=400 --max_inlined_bytecode_size_cumulative=500 --max-inlined-bytecode-size-small=10')).toEqual([]);
  });

  it('tells a flag from the longer names it is a prefix of', () => {
    // `--max-inlined-bytecode-size` begins the other two names: setting either is not setting it.
    const size = INLINING_FLAGS.find((f) => f.startsWith('--max-inlined-bytecode-size='))!;
    expect(inliningFlagsToSet('--max-inlined-bytecode-size-small=10 --max-inlined-bytecode-size-cumulative=500')).toEqual([size]);
    expect(inliningFlagsToSet('--max-inlined-bytecode-size=460')).not.toContain(size);
  });
});

describe('synchronous compiles on the virtual clock', () => {
  it("sees the user's own choice of compile concurrency, in either spelling", () => {
    expect(userSetsCompileConcurrency('--enable-source-maps --max-old-space-size=4096')).toBe(false);
    expect(userSetsCompileConcurrency('--concurrent-recompilation')).toBe(true);
    expect(userSetsCompileConcurrency(' --no_concurrent_recompilation')).toBe(true);
    expect(userSetsCompileConcurrency('--single-threaded')).toBe(true);
    // A longer flag that begins with the same words is not the choice.
    expect(userSetsCompileConcurrency('--concurrent-recompilation-queue-length=16 --single-threaded-gc')).toBe(false);
  });

  it('gives virtual-clock shard processes the flag, and wall-clock ones only their usual flags', () => {
    expect(shardProcessFlags(false, '--enable-source-maps')).toEqual(SHARD_PROCESS_FLAGS);
    expect(shardProcessFlags(true, '--enable-source-maps')).toEqual([...SHARD_PROCESS_FLAGS, SYNCHRONOUS_COMPILE_FLAG]);
    // The user's choice in the coordinator's options: the shard processes get none of fleetsim's.
    expect(shardProcessFlags(true, '--concurrent-recompilation')).toEqual(SHARD_PROCESS_FLAGS);
  });
});
