import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

describe('junit.xml numbers', () => {
  it('are rounded and carry their units (was "3.358657069504261ms")', () => {
    const { summary } = syntheticRun({ intervals: 4, devices: 10 });
    const s = structuredClone(summary);
    s.generator.maxScheduleLagMs = 3.358657069504261;
    s.generator.maxEventLoopDelayMs = 1234.5678;
    const xml = renderJunit(s);
    expect(xml).toContain('generator: max schedule lag 3.36ms, max event-loop delay 1.23s, bound 2.00s');
    expect(xml).not.toMatch(/\d\.\d{4,}/);
    s.generator.saturated = true;
    expect(renderJunit(s)).toContain('generator saturated: schedule lag 3.36ms over the 2.00s bound');
  });
});
