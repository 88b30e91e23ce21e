#!/usr/bin/env node
/**
 * Proof of "no behaviour change" for a refactoring: builds two git revisions in temporary
 * worktrees, runs every shipped scenario (scenarios/*.yaml) on the virtual clock with each, and
 * compares the two summary.json files. Only fields that differ from one run to the next whatever
 * the code does are masked: run.id, run.startedAt, run.endedAt, run.wallMs, run.scenarioFile (a
 * path inside the temporary worktree) and run.host (the machine and its load, where a revision
 * records them). Everything else, key order included, must be equal.
 *
 *   node bench/summary-identity.mjs [--base <rev>] [--head <rev>] [--workers <n>] [--only name,...]
 *
 * --base defaults to b370a19, the last commit before issue 11's restructuring; --head to HEAD.
 * Both sides run with the same --workers (default 2) so the shard split is the same (the virtual
 * clock gives the same summary for any split anyway). Scenarios too big for a quick check run
 * shortened, the same on both sides, and the output says so (SHORTENED below).
 * Exit 0 when every scenario is identical, 1 otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Scenario -> run length used instead of its own (fleet-500k: 500,000 devices for 20 min). */
const SHORTENED = { 'fleet-500k': '2m' };
const MASKED = ['id', 'startedAt', 'endedAt', 'wallMs', 'scenarioFile', 'host'];

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const base = flag('base', 'b370a19');
const head = flag('head', 'HEAD');
const workers = flag('workers', '2');
const only = flag('only', '')?.split(',').filter(Boolean) ?? [];

const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** A built checkout of `rev` in a temporary worktree. */
function checkout(rev) {
  const sha = git('rev-parse', '--short', rev);
  const dir = mkdtempSync(path.join(tmpdir(), `fleetsim-identity-${sha}-`));
  git('worktree', 'add', '--detach', dir, sha);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // Each revision's own build (later ones also bundle the report's browser script).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  return { rev, sha, dir };
}

function runScenario(co, name) {
  const out = path.join(co.dir, 'identity-reports', name);
  const args = ['dist/cli/main.js', 'run', `scenarios/${name}.yaml`, '--clock', 'virtual', '--workers', workers, '--quiet', '--out', out];
  if (SHORTENED[name]) args.push('--duration', SHORTENED[name]);
  const r = spawnSync(process.execPath, args, { cwd: co.dir, encoding: 'utf8' });
  if (!existsSync(out)) return { error: `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  const [runDir] = readdirSync(out);
  const summary = JSON.parse(readFileSync(path.join(out, runDir, 'summary.json'), 'utf8'));
  for (const k of MASKED) if (k in summary.run) summary.run[k] = '(masked)';
  return { summary, text: JSON.stringify(summary, null, 1), exit: r.status };
}

/** Paths (a.b[2].c) where two JSON values differ, at most `limit`. */
function differences(a, b, at = '', out = [], limit = 8) {
  if (out.length >= limit) return out;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    if (a !== b) out.push(`${at || '(root)'}: ${JSON.stringify(a)?.slice(0, 60)} vs ${JSON.stringify(b)?.slice(0, 60)}`);
    return out;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  if (Object.keys(a).join() !== Object.keys(b).join() && !Array.isArray(a)) out.push(`${at || '(root)'}: key order or set differs`);
  for (const k of keys) differences(a[k], b[k], Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k, out, limit);
  return out;
}

const sides = [checkout(base), checkout(head)];
let allSame = true;
try {
  const names = readdirSync(path.join(sides[1].dir, 'scenarios'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .filter((n) => only.length === 0 || only.includes(n))
    .sort();
  console.log(`summary identity: ${base} (${sides[0].sha}) vs ${head} (${sides[1].sha}), --clock virtual --workers ${workers}; masked: run.${MASKED.join(', run.')}`);
  for (const name of names) {
    const [a, b] = sides.map((s) => runScenario(s, name));
    const note = SHORTENED[name] ? ` (SHORTENED: --duration ${SHORTENED[name]})` : '';
    if (a.error || b.error) {
      allSame = false;
      console.log(`${name.padEnd(22)} ERROR${note}: base ${a.error ?? 'ok'}; head ${b.error ?? 'ok'}`);
    } else if (a.text === b.text) {
      console.log(`${name.padEnd(22)} identical${note} (verdict ${a.summary.result.verdict}, ${a.summary.accounting.generated} messages generated, exit ${a.exit})`);
    } else {
      allSame = false;
      console.log(`${name.padEnd(22)} DIFFERENT${note}`);
      for (const d of differences(a.summary, b.summary)) console.log(`    ${d}`);
    }
  }
} finally {
  for (const s of sides) {
    git('worktree', 'remove', '--force', s.dir);
    rmSync(s.dir, { recursive: true, force: true });
  }
}
process.exit(allSame ? 0 : 1);
