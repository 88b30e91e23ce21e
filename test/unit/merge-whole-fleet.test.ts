import { describe, expect, it } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { mergeRuns, type ShardRun } from '../../src/summary/merge-runs.js';
import type { CostResults, RunSummary } from '../../src/summary/run-summary.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/** `fleetsim merge` refuses shard summaries whose cost or years cannot be added shard by shard. */
describe('merge and whole-fleet results', () => {
  const shards = (extra: (s: RunSummary, i: number) => void): ShardRun[] =>
    [0, 1].map((i) => {
      const { summary, timeline } = syntheticRun({ intervals: 5, devices: 20, shards: 1 });
      summary.run.shard = { index: i, count: 2 };
      extra(summary, i);
      return { source: `shard${i}`, summary, timeline };
    });
  const refusal = (runs: ShardRun[]) => {
    try {
      mergeRuns(runs, 'merged');
    } catch (err) {
      return err as FleetsimError;
    }
    return undefined;
  };

  it('shards that carry cost or years are refused with a code, the fields named and a hint', () => {
    const err = refusal(shards((s) => (s.cost = { currency: 'USD', fleetPerMonth: 1 } as CostResults)));
    expect(err?.code).toBe('FLEETSIM_E_MERGE_WHOLE_FLEET');
    expect(err?.message).toContain('carry cost,');
    expect(err?.hint).toContain('run the scenario as one run');
    const both = refusal(shards((s, i) => {
      if (i === 1) s.cost = { currency: 'USD' } as CostResults;
      s.years = { years: 5 } as RunSummary['years'];
    }));
    expect(both?.message).toContain('carry cost and years');
  });

  it('shards without them merge as before', () => {
    expect(refusal(shards(() => {}))).toBeUndefined();
  });
});
