// The CLI as one bundle against a baseline, by default the same code as modules ("The CLI as one
// bundle", bench/RESULTS.md): CPU of whole `fleetsim` processes, every thread and child process included,
// for commands that are mostly start-up (--version, --help, validate) and for virtual-clock runs whose
// fixed cost is a large part (1 device; bench/virtual.mjs's fleet at SimPy's size, 20,000
// devices x 24 h, on 1 worker). Each pair runs both, back to back, in alternating order.
// After `npm run build`:
//   PAIRS=5 node bench/cli-startup.mjs
//   BASELINE=/path/to/other/checkout PAIRS=5 node bench/cli-startup.mjs   (that checkout's CLI
//   as the baseline instead of this one's: e.g. main before the bundle)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { CLK_TCK, envInt, machine, median } from './lib/common.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const PAIRS = envInt('PAIRS', 5);
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..');
const BUNDLE = path.join(root, 'dist/cli/main.js');
/** The baseline: this checkout's modules, or BASELINE's CLI as it was built there. */
const BASE = path.join(process.env.BASELINE ?? root, process.env.BASELINE ? 'dist/cli/main.js' : 'dist/cli/program.js');
const ONLY = (process.env.ONLY ?? '').split(',').filter(Boolean);

const tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bench-startup-'));
const fleet = (devices, duration) => virtualFleetYaml({ devices, duration, name: 'bench-startup' });
writeFileSync(path.join(tmp, 'one.yaml'), fleet(1, '10m'));
writeFileSync(path.join(tmp, 'simpy-size.yaml'), fleet(20000, '24h'));
const out = path.join(tmp, 'reports');

const COMMANDS = [
  ['--version', ['--version']],
  ['--help', ['--help']],
  ['validate', ['validate', path.join(root, 'scenarios/quickstart.yaml')]],
  ['run, 1 device x 10 min, virtual', ['run', path.join(tmp, 'one.yaml'), '-w', '1', '-q', '-o', out]],
  ['run, 20,000 devices x 24 h, virtual', ['run', path.join(tmp, 'simpy-size.yaml'), '-w', '1', '-q', '-o', out]],
].filter(([name]) => ONLY.length === 0 || ONLY.some((o) => name.includes(o)));

/**
 * CPU of this process's waited-for children (cutime + cstime of /proc/self/stat): a child's CPU
 * over all its threads and its own waited-for children, counted when it exits.
 */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}

function timed(cli, args) {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuMs();
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cli} ${args.join(' ')} exited with ${code}: ${err.slice(-1000)}`));
      resolve({ cpuMs: childrenCpuMs() - cpu0, wallMs: performance.now() - t0 });
    });
  });
}

console.log(JSON.stringify({ bench: 'cli-startup', PAIRS, bundle: BUNDLE, base: BASE, machine: machine(), load: loadavg().map((x) => +x.toFixed(2)) }));
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
try {
  // One untimed run of each first: the page cache holds the files for both from then on.
  for (const [, args] of COMMANDS) for (const cli of [BASE, BUNDLE]) await timed(cli, args);
  for (const [name, args] of COMMANDS) {
    const runs = [];
    for (let p = 0; p < PAIRS; p++) {
      const loadBefore = +loadavg()[0].toFixed(2);
      const order = p % 2 === 0 ? ['base', 'bundle'] : ['bundle', 'base'];
      const pair = {};
      for (const which of order) pair[which] = await timed(which === 'bundle' ? BUNDLE : BASE, args);
      runs.push({ ...pair, loadBefore });
      console.log(JSON.stringify({ command: name, pair: p + 1, first: order[0], base: pair.base, bundle: pair.bundle, loadBefore }));
    }
    const m = median(runs.map((r) => r.base.cpuMs));
    const b = median(runs.map((r) => r.bundle.cpuMs));
    const ratio = median(runs.map((r) => r.bundle.cpuMs / r.base.cpuMs));
    const lower = runs.filter((r) => r.bundle.cpuMs < r.base.cpuMs).length;
    console.log(
      `${name}: CPU ${fmt(m)} -> ${fmt(b)} ms (medians; base ${runs.map((r) => fmt(r.base.cpuMs)).join(', ')}; bundle ${runs.map((r) => fmt(r.bundle.cpuMs)).join(', ')}), ` +
        `per-pair ratio ${fmt(ratio, 2)}x, lower in ${lower} of ${PAIRS}; wall ${fmt(median(runs.map((r) => r.base.wallMs)))} -> ${fmt(median(runs.map((r) => r.bundle.wallMs)))} ms`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify({ loadAfter: loadavg().map((x) => +x.toFixed(2)) }));
