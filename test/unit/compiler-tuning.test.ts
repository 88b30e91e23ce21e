import { describe, expect, it } from 'vitest';
import { INLINING_FLAGS, inliningFlagsToSet } from '../../src/engine/shard/compiler-tuning.js';

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
