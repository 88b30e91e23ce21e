import { describe, expect, it } from 'vitest';
import { accountingSummary, telemetryLost } from '../../src/summary/accounting.js';
import { accountingSides } from '../../src/report/format.js';
import type { RunSummary } from '../../src/summary/run-summary.js';

// The soak's numbers (20,000 devices, five broker restarts): the broker counted 13 messages more
// than fleetsim saw acknowledged, because their PUBACKs were lost when the broker was killed.
const parts = [{ generated: 1_183_364, acked: 1_180_173, sentNoAck: 0, failed: 687, dropped: 0, lostOnLink: 0, inTransitAtDrop: 463, inTransitAtEnd: 8, buffered: 2_033 }];

describe("the backend's side of the accounting", () => {
  it('never reports a negative loss: messages that arrived without an acknowledgement are named as such', () => {
    const a = accountingSummary(parts, { received: 1_180_186, duplicates: 0, gaps: 1_136 });
    expect(a.holds).toBe(true);
    expect(a.backend).toMatchObject({ lostBetween: 0, arrivedUnacknowledged: 13 });
    // telemetry.lost: fleetsim's own side and the failed ones; nothing is taken off for the 13.
    expect(telemetryLost(a)).toBe(687 + 463);
    const lines = accountingSides({ accounting: a, run: { clock: 'wall' } } as unknown as RunSummary).join('\n');
    expect(lines).toContain('lost between simulator and backend 0.');
    expect(lines).toContain('13 arrived at the backend but their acknowledgement never reached the device');
    expect(lines).not.toMatch(/-\d/);
  });

  it('counts what the backend never saw when it received fewer than were acknowledged', () => {
    const a = accountingSummary(parts, { received: 1_180_100, duplicates: 0, gaps: 0 });
    expect(a.backend).toMatchObject({ lostBetween: 73, arrivedUnacknowledged: 0 });
    expect(telemetryLost(a)).toBe(687 + 463 + 73);
    const lines = accountingSides({ accounting: a, run: { clock: 'wall' } } as unknown as RunSummary).join('\n');
    expect(lines).toContain('lost between simulator and backend 73.');
    expect(lines).not.toContain('arrived at the backend but');
  });
});
