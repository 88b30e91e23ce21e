import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FleetsimError, formatError } from '../../src/errors/fleetsim-error.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { loadProfileFile } from '../../src/scenario/profile-load.js';
import { parseProtocolText } from '../../src/scenario/protocol-load.js';
import type { ResolvedScenario } from '../../src/scenario/resolved.js';
import { planLayout } from '../../src/scenario/capacity.js';
import { runCli } from '../helpers/cli.js';
import { mutate, type Mutant } from './mutate.js';

/**
 * The seeded mutation fuzzer of issue 15: mutated copies of every shipped scenario, profile and
 * protocol file, checked in-process. Every mutant is either valid, or refused with exit-2 errors
 * whose problems are located; never an internal error, engine text or a JS value in a message,
 * never over 5 s. A handful also go through the real CLI, and accepted mutants with odd values
 * run briefly on the virtual clock in a memory-capped child. FUZZ_CASES and FUZZ_SEED change the
 * run (CI: the defaults); a failure names the seed that reproduces it.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 15);
const CASE_LIMIT_MS = 5000;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A kind of input: its shipped files and how fleetsim reads one. Adding a corpus is one line here. */
const CORPORA: Array<{ kind: string; dir: string; read: (text: string, label: string) => unknown }> = [
  { kind: 'scenario', dir: 'scenarios', read: (text, label) => parseScenarioText(text, label, {}, path.resolve('scenarios', label)) },
  { kind: 'profile', dir: 'profiles', read: (text, label) => loadProfileFile(writeTemp(label, text)) },
  { kind: 'protocol', dir: 'protocols', read: (text, label) => parseProtocolText(text, label, path.resolve('protocols', label)) },
];

function writeTemp(label: string, text: string): string {
  const file = path.join(tmp, label);
  writeFileSync(file, text);
  return file;
}

const seeds = CORPORA.flatMap((c) =>
  readdirSync(c.dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ corpus: c, file: f, text: readFileSync(path.join(c.dir, f), 'utf8') })),
);

/** What must never be in what fleetsim prints for bad input. */
const ESCAPES = /FLEETSIM_E_INTERNAL|Maximum call stack|RangeError|TypeError|ReferenceError|\bundefined\b|\bNaN\b|\[object Object\]|\n\s+at .*:\d+:\d+/;

interface Outcome {
  mutant: Mutant;
  seedFile: string;
  kind: string;
  accepted?: unknown;
  error?: FleetsimError;
  ms: number;
}

function tryOne(i: number): Outcome {
  const s = seeds[i % seeds.length];
  const mutant = mutate(s.text, BASE_SEED * 1_000_003 + i);
  const t = performance.now();
  let accepted: unknown;
  let error: FleetsimError | undefined;
  try {
    accepted = s.corpus.read(mutant.text, s.file);
  } catch (err) {
    if (!(err instanceof FleetsimError)) throw new Error(`${s.corpus.kind} ${s.file} seed ${mutant.seed} (${mutant.applied.join(', ')}) escaped the error path: ${String((err as Error)?.stack ?? err)}`);
    error = err;
  }
  return { mutant, seedFile: s.file, kind: s.corpus.kind, accepted, error, ms: performance.now() - t };
}

const outcomes: Outcome[] = [];

describe('mutation fuzzer: scenarios, profiles, protocol files', () => {
  test(`${CASES} mutants: valid, or located exit-2 errors in plain words, each within ${CASE_LIMIT_MS} ms`, () => {
    for (let i = 0; i < CASES; i++) {
      const o = tryOne(i);
      outcomes.push(o);
      const what = `${o.kind} ${o.seedFile} seed ${o.mutant.seed} (${o.mutant.applied.join(', ')})`;
      expect(o.ms, `${what} took ${Math.round(o.ms)} ms`).toBeLessThan(CASE_LIMIT_MS);
      if (!o.error) continue;
      const printed = formatError(o.error);
      expect(o.error.exitCode, `${what}: ${printed}`).toBe(2);
      expect(printed, what).not.toMatch(ESCAPES);
      expect(o.error.problems.length, `${what}: no problems listed: ${printed}`).toBeGreaterThan(0);
      for (const p of o.error.problems) expect(p.location ?? p.path, `${what}: a problem neither located nor placed: ${printed}`).toBeDefined();
    }
    // The fuzzer reaches both sides: some mutants stay valid, most are refused.
    const accepted = outcomes.filter((o) => !o.error).length;
    expect(accepted).toBeGreaterThan(CASES / 50);
    expect(CASES - accepted).toBeGreaterThan(CASES / 2);
    // ~5 ms a case on a quiet 2-core box; this allows a box loaded 20 times over.
  }, 300_000);

  test('accepted scenario mutants all plan without throwing, on a machine of known size', () => {
    for (const o of outcomes.filter((x) => x.kind === 'scenario' && !x.error)) {
      const s = o.accepted as ResolvedScenario;
      expect(() => planLayout(s, s.devices, { workers: 2 }, { availableMemoryMB: 4096, descriptorsPerProcess: 65_536 }), `seed ${o.mutant.seed}`).not.toThrow();
    }
  });

  test('a handful through the real CLI: validate exits 2 with the same located errors, never a stack', async () => {
    const refused = outcomes.filter((o) => o.kind === 'scenario' && o.error).slice(0, 3);
    for (const o of refused) {
      const file = writeTemp(`cli-${o.mutant.seed}.yaml`, o.mutant.text);
      const r = await runCli(['validate', file]);
      expect(r.code, `seed ${o.mutant.seed}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error FLEETSIM_E_[A-Z_]+: /);
      expect(r.stderr, `seed ${o.mutant.seed}`).not.toMatch(ESCAPES);
    }
  }, 60_000);

  test('accepted mutants with odd values run briefly on the virtual clock, memory capped, and end cleanly', async () => {
    const odd = outcomes.filter((o) => o.kind === 'scenario' && !o.error && o.mutant.applied.some((a) => a === 'extremeNumber' || a === 'extremeUnit' || a === 'manyItems')).slice(0, 2);
    expect(odd.length).toBeGreaterThan(0);
    for (const o of odd) {
      const file = writeTemp(path.join(`run-${o.mutant.seed}.yaml`), o.mutant.text);
      const r = await runCli(['run', file, '--clock', 'virtual', '--duration', '20s', '--workers', '1', '-q', '--out', path.join(tmp, 'reports')], { env: { NODE_OPTIONS: '--max-old-space-size=768' } });
      const what = `seed ${o.mutant.seed} (${o.mutant.applied.join(', ')}): exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`;
      // Ends by itself with a verdict (0 passed, 3 invalid, 99 thresholds failed) or a refusal before starting (2).
      expect([0, 2, 3, 99], what).toContain(r.code);
      expect(r.stderr, what).not.toMatch(ESCAPES);
    }
  }, 120_000);
});
