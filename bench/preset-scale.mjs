// Each preset scenario at fleet scale (issue 14): scenarios/presets/NAME.yaml with every fleet count,
// the arrival rate, manual-approval rate and every `count <op> N` threshold multiplied by
// N_DEVICES / (the scenario's fleet size), run by the CLI on the chosen clock (wall: against the
// platform's fake, which `target.backend` starts in fleetsim's process). Prints wall time, CPU
// (user + system of the whole command, threads and children included, from GNU time), peak RSS,
// the load average before and after, the verdict and each threshold. Needs `npm run build`.
//   CLOCK=virtual N_DEVICES=50000 node bench/preset-scale.mjs
//   CLOCK=wall N_DEVICES=5000 PRESETS=hawkbit,balena node bench/preset-scale.mjs
// ARRIVAL=100/s sets the arrival rate instead of scaling it (a fleet of 5,000 arriving at 25 times
// the shipped rate is a provisioning storm, not the scenario), and DURATION=4m the run's length.
// Scaled copies and reports stay in OUT (default: a fresh folder under the OS temp dir).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { envInt, machine } from './lib/common.mjs';

const CLOCK = process.env.CLOCK ?? 'virtual';
const N = envInt('N_DEVICES', CLOCK === 'virtual' ? 50_000 : 5_000);
const PRESETS = (process.env.PRESETS ?? 'mender,hawkbit,thingsboard,balena,aws-iot').split(',');
const OUT = process.env.OUT ?? mkdtempSync(path.join(os.tmpdir(), 'fleetsim-preset-scale-'));
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const SCENARIOS = new URL('../scenarios/presets/', import.meta.url).pathname;

/** "50/s" times f, kept a rate; fractional rates round up so a small fleet still arrives. */
const scaleRate = (rate, f) => {
  const m = /^([\d.]+)\/(\w+)$/.exec(String(rate));
  if (!m) throw new Error(`cannot scale rate "${rate}"`);
  return `${Math.ceil(Number(m[1]) * f)}/${m[2]}`;
};

/** "count > 170" times f; a bound of 0 stays 0 (none allowed at any size). */
const scaleCountBound = (expr, f) => expr.replace(/^(\s*count\s*(?:==|>=|<=|>|<)\s*)(\d+)\s*$/, (_, head, n) => `${head}${Math.round(Number(n) * f)}`);

function scaled(name) {
  const file = path.join(SCENARIOS, `${name}.yaml`);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const fleet = doc.get('fleet');
  const total = fleet.items.reduce((n, g) => n + Number(g.get('count')), 0);
  const f = N / total;
  let given = 0;
  fleet.items.forEach((g, i) => {
    // The last group takes the remainder, so the fleet is exactly N devices.
    const c = i === fleet.items.length - 1 ? N - given : Math.round(Number(g.get('count')) * f);
    g.set('count', c);
    given += c;
  });
  doc.setIn(['arrival', 'rate'], process.env.ARRIVAL ?? scaleRate(doc.getIn(['arrival', 'rate']), f));
  if (process.env.DURATION) doc.set('duration', process.env.DURATION);
  if (doc.hasIn(['provisioning', 'approvalRate'])) doc.setIn(['provisioning', 'approvalRate'], scaleRate(doc.getIn(['provisioning', 'approvalRate']), f));
  const thresholds = doc.get('thresholds');
  for (const pair of thresholds?.items ?? []) {
    pair.value.items.forEach((item, i) => pair.value.set(i, scaleCountBound(String(item.value ?? item), f)));
  }
  doc.set('name', `${name}-${N}`);
  const dir = path.join(OUT, name);
  mkdirSync(dir, { recursive: true });
  // Relative paths in the scenario (a protocol file) stay valid: the copy names the shipped folder.
  const copy = path.join(dir, `${name}-${N}.yaml`);
  writeFileSync(copy, doc.toString().replace(/\$schema=\.\.\/\.\.\/schema/, `$schema=${path.resolve(SCENARIOS, '../../schema')}`));
  return { copy, dir, f };
}

const load = () => os.loadavg()[0].toFixed(1);
const m = machine();
console.log(`# preset-scale: ${PRESETS.join(', ')} at ${N.toLocaleString('en-US')} devices, ${CLOCK} clock, arrival ${process.env.ARRIVAL ?? 'scaled'}, duration ${process.env.DURATION ?? 'as shipped'}`);
console.log(`# ${m.nproc} CPUs, ${m.cpu}, ${m.ramGiB} GiB, Node ${m.node}, ${m.date}; outputs in ${OUT}`);
const rows = [];
for (const name of PRESETS) {
  const { copy, dir } = scaled(name);
  const before = load();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, CLI, 'run', copy, '--clock', CLOCK, '--out', path.join(dir, 'out'), '-q'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const after = load();
  const [wall, user, sys, rssKb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  let summary;
  try {
    // The CLI writes each run into its own folder under --out (name and start time).
    const runDir = readdirSync(path.join(dir, 'out')).sort().pop();
    summary = JSON.parse(readFileSync(path.join(dir, 'out', runDir, 'summary.json'), 'utf8'));
  } catch {
    console.log(`${name}: exit ${r.status}, no summary.json\n${r.stderr.slice(-2000)}`);
    continue;
  }
  const c = summary.counters;
  const row = {
    name, exit: r.status, wallS: wall, cpuS: +(user + sys).toFixed(1), rssMB: Math.round(rssKb / 1024), load: `${before} → ${after}`,
    verdict: summary.result.verdict, status: summary.run.status, identity: summary.accounting.holds,
    provisioned: c['provision.ok'] ?? 0, updated: c['update.success'] ?? 0,
    failedThresholds: summary.thresholds.filter((t) => !t.ok).map((t) => `${t.metric} ${t.expression} (was ${t.display})`),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log('\n| scenario | devices | clock | wall s | CPU s | peak RSS MB | load | status | verdict | identity | provisioned | updated | failed thresholds |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${N.toLocaleString('en-US')} | ${CLOCK} | ${r.wallS} | ${r.cpuS} | ${r.rssMB} | ${r.load} | ${r.status} | ${r.verdict} | ${r.identity} | ${r.provisioned.toLocaleString('en-US')} | ${r.updated.toLocaleString('en-US')} | ${r.failedThresholds.join('; ') || '—'} |`);
}
