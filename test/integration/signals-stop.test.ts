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

/**
 * A stop takes seconds of work (the shard sees the stop, drains, the reports are written): at most
 * STOP_CPU_SECONDS of CPU, and within STOP_WALL_MS however loaded the machine (a run that does not
 * see the stop goes on for hours).
 */
const STOP_CPU_SECONDS = 15;
const STOP_WALL_MS = 60_000;
const UNDER_WAY_DEADLINE_MS = 150_000;
/** Under way, then stopped. */
const TEST_DEADLINE_MS = UNDER_WAY_DEADLINE_MS + STOP_WALL_MS + 30_000;

/**
 * Signals a run once it is under way and waits for it to end. `stopCpuSeconds` is the CPU the
 * process spent from the signal to its last sample before exit (sampled every 50 ms): the work the
 * stop took, which a loaded machine does not stretch the way it stretches wall time.
 */
async function interrupt(args: string[], signal: NodeJS.Signals, busyCpuSeconds: number): Promise<{ code: number | null; stoppedInMs: number; stopCpuSeconds: number; stderr: string }> {
  const { child, done } = startCli(args);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // Under way: the run has started and is burning CPU in its first window.
  // A deadline for a run that never starts: on a loaded machine the child gets a small share of a
  // core, so its first CPU seconds can take more than a minute.
  await waitFor(() => stderr.includes('fleetsim: ') && cpuSeconds(child.pid!) > busyCpuSeconds, 'the run to be under way', UNDER_WAY_DEADLINE_MS, 50);
  const at = Date.now();
  const cpuAtSignal = cpuSeconds(child.pid!);
  let cpuLast = cpuAtSignal;
  const sampler = setInterval(() => (cpuLast = Math.max(cpuLast, cpuSeconds(child.pid!))), 50);
  child.kill(signal);
  try {
    const r = await done;
    return { code: r.code, stoppedInMs: Date.now() - at, stopCpuSeconds: cpuLast - cpuAtSignal, stderr: r.stderr };
  } finally {
    clearInterval(sampler);
  }
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
      expect(r.stopCpuSeconds).toBeLessThan(STOP_CPU_SECONDS);
      expect(r.stoppedInMs).toBeLessThan(STOP_WALL_MS);
      const summary = summaryIn(out);
      expect(summary.run.status).toBe('interrupted');
      expect(summary.accounting.holds).toBe(true);
    }, TEST_DEADLINE_MS);
  }

  it('SIGTERM stops a wall-clock run', async () => {
    const out = path.join(dir, 'wall');
    const r = await interrupt(['run', 'scenarios/smoke.yaml', '--duration', '5m', '--workers', '1', '-q', '--out', out], 'SIGTERM', 1);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stopCpuSeconds).toBeLessThan(STOP_CPU_SECONDS);
    expect(r.stoppedInMs).toBeLessThan(STOP_WALL_MS);
    expect(summaryIn(out).run.status).toBe('interrupted');
  }, TEST_DEADLINE_MS);
});
