import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * SIGINT and SIGTERM stop any run within seconds (issue 15), with a real child process. The
 * virtual run is dense: one snapshot window holds ~10^10 events (50,000 devices reporting every
 * second for a day, one window), which the shard used to run without turning its event loop, so
 * the stop message was never seen and the run went on for hours.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dense = path.join(dir, 'dense-virtual.yaml');
writeFileSync(
  dense,
  [
    'name: dense-virtual',
    'duration: 1d',
    'clock: virtual',
    'fleet: [{ profile: esp32-wifi-sensor, count: 50000, link: wifi }]',
    'arrival: { rate: 1000000/s }',
    'behaviour: { telemetry: { every: 1s } }',
    'options: { snapshotEvery: 1d }',
  ].join('\n'),
);

/** CPU seconds the process has used (utime + stime from /proc, in clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function interrupt(args: string[], signal: NodeJS.Signals, busyCpuSeconds: number): Promise<{ code: number | null; stoppedInMs: number; stderr: string }> {
  const { child, done } = startCli(args);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // Under way: the run has started and is burning CPU in its first window.
  await waitFor(() => stderr.includes('fleetsim: ') && cpuSeconds(child.pid!) > busyCpuSeconds, 'the run to be under way', 60_000, 50);
  const at = Date.now();
  child.kill(signal);
  const r = await done;
  return { code: r.code, stoppedInMs: Date.now() - at, stderr: r.stderr };
}

function summaryIn(out: string): { run: { status: string }; accounting: { holds: boolean } } {
  const [run] = readdirSync(out);
  return JSON.parse(readFileSync(path.join(out, run, 'summary.json'), 'utf8'));
}

describe.concurrent('a signal stops any run within seconds', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops a dense virtual-clock run mid-window, with a partial report`, async () => {
      const out = path.join(dir, `virtual-${signal}`);
      const r = await interrupt(['run', dense, '--workers', '1', '-q', '--out', out], signal, 2);
      expect(r.code, r.stderr).toBe(130);
      expect(r.stoppedInMs).toBeLessThan(15_000);
      const summary = summaryIn(out);
      expect(summary.run.status).toBe('interrupted');
      expect(summary.accounting.holds).toBe(true);
    }, 90_000);
  }

  it('SIGTERM stops a wall-clock run', async () => {
    const out = path.join(dir, 'wall');
    const r = await interrupt(['run', 'scenarios/smoke.yaml', '--duration', '5m', '--workers', '1', '-q', '--out', out], 'SIGTERM', 1);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stoppedInMs).toBeLessThan(15_000);
    expect(summaryIn(out).run.status).toBe('interrupted');
  }, 90_000);
});
