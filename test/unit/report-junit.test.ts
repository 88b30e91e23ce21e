import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

describe('junit.xml numbers', () => {
  it('are rounded and carry their units (was "3.358657069504261ms")', () => {
    const { summary } = syntheticRun({ intervals: 4, devices: 10 });
    const s = structuredClone(summary);
    s.generator.maxScheduleLagMs = 3.358657069504261;
    s.generator.maxEventLoopDelayMs = 1234.5678;
    s.generator.boundMs = 2000;
    const xml = renderJunit(s);
    expect(xml).toContain('generator: max schedule lag 3.36ms, max event-loop delay 1.23s, bound 2.00s');
    expect(xml).not.toMatch(/\d\.\d{4,}/);
    s.generator.saturated = true;
    const saturated = renderJunit(s);
    expect(saturated).toMatch(/generator saturated \(fleetsim(&apos;|')s side, not the backend(&apos;|')s\): schedule lag 3\.36ms, event-loop delay 1\.23s, bound 2\.00s/);
  });
});
