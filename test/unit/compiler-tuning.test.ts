import { describe, expect, it } from 'vitest';
import { INLINING_FLAGS, inliningFlagsToSet } from '../../src/engine/shard/compiler-tuning.js';

describe('the inlining budget fleetsim sets', () => {
  it('sets both flags when the user set neither', () => {
    expect(inliningFlagsToSet('--enable-source-maps ')).toEqual([...INLINING_FLAGS]);
  });

  it('leaves a flag the user set alone, in either of node\'s spellings, and still sets the other', () => {
    const cumulative = INLINING_FLAGS.find((f) => f.includes('-cumulative='))!;
    expect(inliningFlagsToSet('--max-inlined-bytecode-size-small=10')).toEqual([cumulative]);
    expect(inliningFlagsToSet(' --max_inlined_bytecode_size_small=10')).toEqual([cumulative]);
    expect(inliningFlagsToSet('--max_inlined_bytecode_size_cumulative=500 --max-inlined-bytecode-size-small=10')).toEqual([]);
  });
});
