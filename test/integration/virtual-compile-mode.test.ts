import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * Virtual-clock shards compile optimized code on their own threads (compiler-tuning.ts,
 * SYNCHRONOUS_COMPILE_FLAG): V8 says how it compiles each function with `--trace-opt`
 * ("mode: ConcurrencyMode::kSynchronous" or "kConcurrent"). A worker thread started after the run
 * compiles in the background again, as wall-clock shards must (a compile blocking their thread
 * would be part of a measured latency), and a user's own `--concurrent-recompilation` wins.
 */
const SCENARIO = `name: compile-mode
seed: 3
duration: 1h
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 2000, link: nb-iot, cells: 10 }
arrival: { rate: 1000/s }
behaviour:
  telemetry: { every: 1m, jitter: 10%, size: 100B, qos: 1 }
  offline: { availability: 95%, downtime: { distribution: lognormal, median: 2m } }
options:
  snapshotEvery: 5m
`;

/** Runs the scenario on 2 shard threads, then a hot loop in a new worker thread of the same process. */
const SCRIPT = (file: string) => `
import { Worker } from 'node:worker_threads';
import { loadScenario } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/scenario/load.js')).href)};
import { runScenario } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/engine/coordinator.js')).href)};
const result = await runScenario(loadScenario(${JSON.stringify(file)}), { workers: 2, runId: 'compile-mode' });
if (!result.summary.accounting.holds || result.summary.run.events < 100000) throw new Error('the run did not happen');
const hot = 'function laterWorkerLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * 7) % 13; return s }' +
  'let t = 0; for (let k = 0; k < 3000; k++) t += laterWorkerLoop(2000); require("node:worker_threads").parentPort.postMessage(t);';
await new Promise((resolve, reject) => new Worker(hot, { eval: true }).once('message', resolve).once('error', reject));
`;

/** Each function's compile modes as V8 traced them: name -> modes seen. */
async function traceCompiles(script: string, nodeFlags: string[]): Promise<Map<string, Set<string>>> {
  const child = spawn(process.execPath, ['--trace-opt', ...nodeFlags, script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const modes = new Map<string, Set<string>>();
  for (const m of stdout.matchAll(/\[compiling method \S+ <JSFunction (\S+) [^\n]*mode: ConcurrencyMode::(\w+)\]/g)) {
    if (!modes.has(m[1])) modes.set(m[1], new Set());
    modes.get(m[1])!.add(m[2]);
  }
  return modes;
}

describe('how the shards of a virtual run compile', () => {
  let tmp: string;
  let script: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-compile-mode-'));
    const file = path.join(tmp, 'fleet.yaml');
    writeFileSync(file, SCENARIO);
    script = path.join(tmp, 'run.mjs');
    writeFileSync(script, SCRIPT(file));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('the shards compile on their own threads; a worker started after the run compiles in the background', async () => {
    const modes = await traceCompiles(script, []);
    // The scheduler's event loop runs only in the shards.
    expect(modes.get('runQueued')).toEqual(new Set(['kSynchronous']));
    expect(modes.get('laterWorkerLoop')).toEqual(new Set(['kConcurrent']));
  }, 120_000);

  test("a user's own --concurrent-recompilation is kept", async () => {
    const modes = await traceCompiles(script, ['--concurrent-recompilation']);
    expect(modes.get('runQueued')).toEqual(new Set(['kConcurrent']));
    expect(modes.get('laterWorkerLoop')).toEqual(new Set(['kConcurrent']));
  }, 120_000);
});
