import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { steadyRtoMs } from '../../src/models/tcp-retransmission.js';
import { LINK_TYPE_NAMES, LINK_TYPES } from '../../src/models/link-types.js';
import { CLI, runCli } from '../helpers/cli.js';

/** `fleetsim links` as users run it: the built CLI, the figures runs use, with their sources. */
describe('fleetsim links', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  });

  test('lists every link model with delay, jitter, rates, Gilbert–Elliott loss, connect time, settled RTO and sources', async () => {
    const r = await runCli(['links']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^link +delay +jitter +up \/ down +gemodel p r 1-h 1-k +mean loss, burst +connect +RTO$/);
    expect(lines.find((l) => l.startsWith('nb-iot '))).toMatch(/^nb-iot +5\.8 s +± 4\.2 s uniform +26 kbit\/s \/ 26 kbit\/s +0\.5% 30% 30% 0\.1% +0\.59%, 3\.33 pkts +2 s–10 s +22\.8 s$/);
    expect(lines.find((l) => l.startsWith('wifi '))).toMatch(/ 1\.1%, 4 pkts /);
    for (const name of LINK_TYPE_NAMES) expect(lines.some((l) => l.startsWith(`${name} `)), name).toBe(true);
    expect(r.stdout).toContain('SOURCES');
    expect(r.stdout).toContain('RFC 2488');
    expect(r.stdout).not.toContain('MODELS.md');
  });

  test('--json gives the same figures as data, including the RTO runs use', async () => {
    const r = await runCli(['links', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; delayMs: number; upBps: number; gemodel: number[]; meanLoss: number; rtoMs: number; source: Record<string, string> }>;
    expect(rows.map((x) => x.name)).toEqual([...LINK_TYPE_NAMES]);
    for (const row of rows) {
      const t = LINK_TYPES[row.name as keyof typeof LINK_TYPES];
      expect(row.delayMs).toBe(t.latency.delayMs);
      expect(row.upBps).toBe(t.upBps);
      expect(row.rtoMs).toBe(steadyRtoMs(t, 0));
      expect(Object.values(row.source).every((s) => s.length > 0)).toBe(true);
    }
    const nb = rows.find((x) => x.name === 'nb-iot')!;
    [0.005, 0.3, 0.3, 0.001].forEach((v, i) => expect(nb.gemodel[i]).toBeCloseTo(v, 12));
    // Linux's RTO settled on NB-IoT: an 11.6 s round trip + 4 x its 2.8 s mean deviation (±4.2 s uniform each way).
    expect(nb.rtoMs).toBe(22_800);
    // A LAN: the 1 ms round trip + Linux's 200 ms floor, not the SYN's 1 s.
    expect(rows.find((x) => x.name === 'ethernet')!.rtoMs).toBeCloseTo(201, 9);
    expect(rows.find((x) => x.name === 'ethernet')!.meanLoss).toBe(0);
  });
});
