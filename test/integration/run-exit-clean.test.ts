import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { requireMosquitto } from '../helpers/mosquitto.js';
import { alive, descendants, listeningPorts, type ProcInfo } from '../helpers/process-tree.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Every way `fleetsim run` ends leaves nothing it started behind: the real CLI with two shard
 * processes (--processes 2) and a local Mosquitto broker ends normally, on an error (a shard
 * process killed), on Ctrl-C (SIGINT to the whole process group, as a terminal sends it), on
 * SIGTERM (to fleetsim alone, as a supervisor sends it) and on a second SIGINT (exit without a
 * report). Afterwards no process it started runs, nothing listens on the ports it logged, and
 * the brokers' temporary directories are gone.
 */

const scenario = (duration: string) => `
name: exit-clean
seed: 4
duration: ${duration}
target: { mqtt: local-mosquitto, brokers: 1 }
fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 500ms, size: 64B, qos: 1 }
  poll: { every: 1s }
`;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-exit-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  pid: number;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What ran under fleetsim once everything was up: shard processes and brokers. */
  tree: ProcInfo[];
  ports: number[];
}

/** Starts the CLI in its own process group and waits until its shard processes and broker run. */
async function start(name: string, duration: string): Promise<Started> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, scenario(duration));
  const child = spawn(process.execPath, [CLI, 'run', file, '-q', '-o', path.join(dir, name), '--processes', '2', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid!;
  let tree: ProcInfo[] = [];
  await waitFor(
    () => {
      tree = descendants(pid);
      return tree.filter((p) => p.comm === 'mosquitto').length === 1 && tree.filter((p) => p.cmdline.includes('shard-process')).length === 2 && /devices.*online|embedded backend: http/.test(stderr);
    },
    `${name}: shard processes and the broker to run`,
    60_000,
    50,
  );
  const ports = [...stderr.matchAll(/(?:mqtt|http):\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  expect(ports.length).toBeGreaterThanOrEqual(2); // the broker's and the embedded HTTP API's
  return { pid, stderr: () => stderr, stdout: () => stdout, exited, tree, ports };
}

/** Nothing of the run is left: processes, listeners, the brokers' temporary directories. */
async function expectClean(run: Started): Promise<void> {
  await run.exited;
  // Orphans would be re-parented away from fleetsim, so check the pids seen while it ran.
  await waitFor(() => run.tree.every((p) => !alive(p.pid)), `every process fleetsim started to end (${run.tree.map((p) => `${p.pid} ${p.comm}`).join(', ')})`, 10_000, 50);
  expect(alive(run.pid)).toBe(false);
  const listening = listeningPorts();
  for (const port of run.ports) expect(listening.has(port), `something still listens on port ${port}`).toBe(false);
  for (const broker of run.tree.filter((p) => p.comm === 'mosquitto')) {
    const conf = /-c (\S+)/.exec(broker.cmdline)![1];
    expect(existsSync(path.dirname(conf)), `broker directory ${path.dirname(conf)}`).toBe(false);
  }
}

describe.runIf(requireMosquitto())('fleetsim run ends clean (--processes 2, local Mosquitto)', () => {
  it('after a normal end', async () => {
    const run = await start('normal', '3s');
    const { code } = await run.exited;
    expect(code).toBe(0);
    await expectClean(run);
  }, 90_000);

  it('after an error: a shard process killed', async () => {
    const run = await start('error', '120s');
    const shard = run.tree.find((p) => p.cmdline.includes('shard-process'))!;
    const killedAt = Date.now();
    process.kill(shard.pid, 'SIGKILL');
    const { code } = await run.exited;
    // The run ends on the failure (exit 1, error), not at the end of its 120 s.
    expect(code).toBe(1);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(run.stdout()).toMatch(/shard \d failed: shard process \d \(pid \d+\) exited with SIGKILL/);
    expect(run.stderr()).not.toMatch(/FLEETSIM_E_INTERNAL/);
    await expectClean(run);
  }, 90_000);

  it('after Ctrl-C (SIGINT to the process group)', async () => {
    const run = await start('sigint', '60s');
    process.kill(-run.pid, 'SIGINT');
    const { code } = await run.exited;
    expect(code, run.stdout()).toBe(130);
    await expectClean(run);
  }, 90_000);

  it('after SIGTERM to fleetsim alone', async () => {
    const run = await start('sigterm', '60s');
    process.kill(run.pid, 'SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(130);
    await expectClean(run);
  }, 90_000);

  it('after a second SIGINT (exit without a report)', async () => {
    const run = await start('sigint-twice', '60s');
    process.kill(run.pid, 'SIGINT');
    await waitFor(() => /stopping devices gracefully/.test(run.stderr()), 'the first SIGINT to be taken', 10_000);
    process.kill(run.pid, 'SIGINT');
    await run.exited;
    await expectClean(run);
  }, 90_000);
});
