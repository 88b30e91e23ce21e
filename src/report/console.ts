import type { TimelineRow } from '../metrics/aggregate.js';
import { costTables, yearsTables } from './longrun-tables.js';
import { backendQueueTables } from './backend-tables.js';
import { accountingEquation, accountingSides, alignColumns, formatBytes, formatCount, formatDuration, formatLifetime, formatMicros, formatRate, runCompletedProblems, runSeconds, shardLabel, generatorHealthText } from './format.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { Verdict } from '../summary/verdict.js';
import { consoleErrorSections } from './error-text.js';
import { terminalText } from './escape.js';
import { consoleFaultSection } from './fault-text.js';

/**
 * What a person sees in the terminal: the end-of-run summary (k6-like) and the live status line.
 * Plain strings: the caller writes them, so tests and CI logs see exactly the same text.
 */

const VERDICT_TEXT: Record<Verdict, string> = {
  passed: '✓ PASSED',
  thresholds_failed: '✗ THRESHOLDS FAILED',
  invalid: '✗ INVALID MEASUREMENT',
  interrupted: '■ INTERRUPTED',
  error: '✗ ERROR',
};

/** Left column with a dotted leader, as k6 prints it: `name ............ `. */
function label(name: string, width: number): string {
  const pad = width - name.length;
  return pad <= 1 ? `${name} ` : `${name} ${'.'.repeat(pad - 1)} `;
}

export interface SummaryTableOptions {
  /** Path of the report directory or report.html, printed last. */
  reportPath?: string;
}

/** The end-of-run console summary. */
export function formatSummaryTable(s: RunSummary, options: SummaryTableOptions = {}): string {
  const out: string[] = [];
  const r = s.run;
  const secs = runSeconds(s);
  const shard = r.shard ? ` · shard ${shardLabel(r.shard)}` : '';
  out.push(`  fleetsim ${s.tool.version} · ${r.scenario} · run ${r.id}${shard}`);
  out.push(`  scenario: ${r.scenarioFile}   target: ${r.target}   clock: ${r.clock}${r.clock === 'wall' && r.timeScale !== 1 ? ` ×${r.timeScale}` : ''}   seed: ${r.seed}`);
  out.push(`  devices: ${formatCount(r.devices)} on ${r.workers} worker${r.workers === 1 ? '' : 's'}   duration: ${formatDuration(r.durationMs)} (wall ${formatDuration(r.wallMs)})   status: ${r.status}`);
  for (const w of r.warnings ?? []) out.push(`  ⚠ ${w}`);

  const hist = Object.entries(s.histograms).filter(([, h]) => h.stats.count > 0);
  const counters = Object.entries(s.counters).filter(([, v]) => v !== 0);
  const width = Math.max(24, ...hist.map(([n]) => n.length + 4), ...counters.map(([n]) => n.length + 4), ...Object.keys(s.gauges).map((n) => n.length + 4));

  if (hist.length > 0) {
    out.push('', '  LATENCY');
    const rows = [['', 'count', 'avg', 'p50', 'p90', 'p95', 'p99', 'max']];
    for (const [name, h] of hist) {
      const st = h.stats;
      rows.push([label(name, width), formatCount(st.count), ...[st.avg, st.p50, st.p90, st.p95, st.p99, st.max].map(formatMicros)]);
    }
    out.push(...alignColumns(rows, 1).map((l) => `  ${l}`));
  }
  if (counters.length > 0) {
    out.push('', '  COUNTERS');
    const rows = [['', 'total', 'rate']];
    for (const [name, v] of counters) rows.push([label(name, width), formatCount(v), formatRate(v / secs)]);
    const zero = Object.keys(s.counters).length - counters.length;
    out.push(...alignColumns(rows, 1).map((l) => `  ${l}`));
    if (zero > 0) out.push(`  (${zero} counter${zero === 1 ? '' : 's'} at zero not shown)`);
  }
  const gauges = Object.entries(s.gauges);
  if (gauges.length > 0) {
    out.push('', '  GAUGES (end of run)');
    out.push(...alignColumns(gauges.map(([n, v]) => [label(n, width), Number.isInteger(v) ? formatCount(v) : v.toFixed(2)]), 1).map((l) => `  ${l}`));
    // devices.online is 0 here because every device disconnects at the end; say what it was.
    if (s.online) out.push(`  devices online: peak ${formatCount(s.online.peak)} · ${formatCount(s.online.beforeEnd)} just before the end`);
  }
  if (s.thresholds.length > 0) {
    out.push('', '  THRESHOLDS');
    const rows = s.thresholds.map((t) => [t.ok ? '✓' : '✗', t.metric, t.expression, `measured ${t.value === null ? 'no data' : t.display}`]);
    out.push(...alignColumns(rows, 99).map((l) => `  ${l}`));
  }

  out.push(...consoleErrorSections(s));
  out.push(...consoleFaultSection(s));
  out.push(...fleetOpsSection(s));
  out.push(...fleetSection(s));
  for (const t of [...backendQueueTables(s), ...costTables(s), ...yearsTables(s)]) {
    out.push('', `  ${t.title}`, ...alignColumns([t.head, ...t.rows], 1).map((l) => `  ${l}`), ...t.notes.map((n) => `    ${n}`));
  }

  const a = s.accounting;
  out.push('', '  ACCOUNTING');
  out.push(`  ${a.holds ? '✓' : '✗'} ${accountingEquation(s)}  (${a.holds ? 'holds' : 'DOES NOT HOLD: a bug in fleetsim'})`);
  for (const line of accountingSides(s)) out.push(`    ${line}`);
  const g = s.generator;
  out.push('', '  GENERATOR');
  out.push(`  ${g.saturated ? '✗' : '✓'} ${generatorHealthText(g)}${g.saturated ? '  SATURATED: the measurement is invalid' : ''}`);

  out.push('', `  RESULT  ${VERDICT_TEXT[s.result.verdict]}  (exit ${s.result.exitCode})`);
  for (const reason of s.result.reasons) out.push(`    - ${reason}`);
  for (const p of runCompletedProblems(s)) if (!s.result.reasons.includes(p)) out.push(`    - ${p}`);
  if (options.reportPath) out.push(`  report: ${options.reportPath}`);
  // Device ids, release names and backend error texts are in there: print nothing a terminal obeys.
  return terminalText(out.join('\n')) + '\n';
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** Status lines fit a classic terminal unless the terminal says it is wider. */
export const PROGRESS_COLUMNS = 80;
/** Plain (CI) mode prints a line when this much wall time passed since the last one ... */
export const PLAIN_EVERY_WALL_MS = 10_000;
/** ... or when progress moved on by this many percentage points. */
export const PLAIN_EVERY_PERCENT = 5;

/**
 * The fields of a status line, most important first: when the line is too wide, fields are dropped
 * from the end of this order (generator lag first, then the send rate, the bar, ...), so the
 * percentage and the time always show.
 */
const FIELD_ORDER = ['pct', 'time', 'online', 'errors', 'acked', 'ackP99', 'bar', 'sent', 'lag'] as const;
type Field = (typeof FIELD_ORDER)[number];
const SHOWN_ORDER: readonly Field[] = ['bar', 'pct', 'time', 'online', 'sent', 'acked', 'ackP99', 'errors', 'lag'];

/**
 * One status line for a timeline row: progress, devices online, throughput, ack latency p99,
 * errors and generator lag, at most `columns` wide. `intervalMs` is the row's length, for
 * per-second rates; `totalMs` the simulated horizon (on the virtual clock with projectAfter, the
 * part simulated event by event).
 */
export function formatProgressLine(row: TimelineRow, elapsedMs: number, totalMs: number, devices: number, intervalMs = 1000, columns = PROGRESS_COLUMNS): string {
  const secs = Math.max(intervalMs, 1) / 1000;
  const c = row.counters;
  const gv = row.gauges;
  const errors = (c['telemetry.failed'] ?? 0) + (c['provision.failed'] ?? 0) + (c['mqtt.connect.failed'] ?? 0) + (c['poll.failed'] ?? 0) + (c['errors.network'] ?? 0);
  const ack = row.histograms['telemetry.ack.latency'];
  const pct = progressPercent(elapsedMs, totalMs);
  const text: Record<Field, string> = {
    bar: bar(pct / 100, 20),
    pct: `${pct.toFixed(0).padStart(3)}%`,
    time: `${formatDuration(elapsedMs)}/${formatDuration(totalMs)}`,
    online: `online ${formatCount(gv['devices.online'] ?? 0)}/${formatCount(devices)}`,
    sent: `sent ${formatRate((c['telemetry.sent'] ?? 0) / secs)}`,
    acked: `acked ${formatRate((c['telemetry.acked'] ?? 0) / secs)}`,
    ackP99: `ack p99 ${ack && ack.count > 0 ? formatMicros(ack.p99) : '–'}`,
    errors: `errors ${formatCount(errors)}`,
    lag: `lag ${(gv['generator.schedule_lag'] ?? 0).toFixed(0)}ms`,
  };
  const kept = new Set<Field>(FIELD_ORDER);
  const render = () => SHOWN_ORDER.filter((f) => kept.has(f)).map((f) => (f === 'pct' && kept.has('bar') ? `${text.bar} ${text.pct}` : f === 'bar' ? '' : text[f])).filter(Boolean).join('  ');
  let line = render();
  for (let i = FIELD_ORDER.length - 1; line.length > columns && i > 0; i--) {
    kept.delete(FIELD_ORDER[i]);
    line = render();
  }
  return line.length > columns ? line.slice(0, columns) : line;
}

function progressPercent(elapsedMs: number, totalMs: number): number {
  return totalMs > 0 ? Math.min(100, (elapsedMs / totalMs) * 100) : 0;
}

export interface ProgressPrinterOptions {
  /** The simulated horizon in ms (`simulatedHorizonMs`: on the virtual clock with projectAfter, the part simulated event by event). */
  totalMs: number;
  devices: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Overrides the choice from `stream.isTTY` and the `CI` environment variable. */
  mode?: 'tty' | 'plain';
  /** Wall clock in ms, for plain mode's pacing (tests pass a fake one). */
  now?: () => number;
}

/**
 * The live status line. On a terminal it rewrites one line in place; under CI (or when output is
 * piped) it prints a plain line every PLAIN_EVERY_WALL_MS of wall time or PLAIN_EVERY_PERCENT of
 * progress, whichever comes first, so a virtual-clock run of 720 snapshots in 4 s logs about 20
 * lines, not 720. Called from the coordinator on the main thread only.
 */
export class ProgressPrinter {
  readonly mode: 'tty' | 'plain';
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly now: () => number;
  private lastTMs = 0;
  private lastPrinted: { wallMs: number; pct: number; tMs: number } | undefined;
  private lastLine = '';
  private wroteTty = false;

  constructor(private readonly options: ProgressPrinterOptions) {
    this.stream = options.stream ?? process.stdout;
    this.now = options.now ?? (() => performance.now());
    const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
    this.mode = options.mode ?? (this.stream.isTTY && !ci ? 'tty' : 'plain');
  }

  update(row: TimelineRow): void {
    const intervalMs = row.tMs - this.lastTMs;
    this.lastTMs = row.tMs;
    const columns = this.mode === 'tty' ? Math.max(20, (this.stream.columns ?? PROGRESS_COLUMNS) - 1) : PROGRESS_COLUMNS;
    const line = formatProgressLine(row, row.tMs, this.options.totalMs, this.options.devices, intervalMs > 0 ? intervalMs : 1000, columns);
    this.lastLine = line;
    if (this.mode === 'tty') {
      this.stream.write(`\r\x1b[2K${line}`);
      this.wroteTty = true;
      return;
    }
    const wallMs = this.now();
    const pct = progressPercent(row.tMs, this.options.totalMs);
    const last = this.lastPrinted;
    if (!last || wallMs - last.wallMs >= PLAIN_EVERY_WALL_MS || pct - last.pct >= PLAIN_EVERY_PERCENT) {
      this.lastPrinted = { wallMs, pct, tMs: row.tMs };
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the status line so that the summary starts on a clean line (plain mode: the last state, if not printed yet). */
  done(): void {
    if (this.mode === 'tty' && this.wroteTty) this.stream.write('\n');
    else if (this.mode === 'plain' && this.lastLine && this.lastPrinted?.tMs !== this.lastTMs) this.stream.write(`${this.lastLine}\n`);
  }
}

/**
 * Fleet operations, when the run had any: per release updated / failed / rolled back and time to
 * 50/95/99% of compatible devices, download volume, command round trip, config propagation, logs.
 */
function fleetOpsSection(s: RunSummary): string[] {
  // Release names, causes and abort reasons come from devices and the backend: no terminal escapes.
  // eslint-disable-next-line no-control-regex
  const t = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '�');
  const f = s.fleet;
  const rtt = s.histograms['command.rtt']?.stats;
  const rows: string[][] = [];
  const o = f?.ota;
  if (o) {
    const after = (t: number | null) => (t === null ? 'not reached' : `+${formatDuration(t)}`);
    for (const r of o.releases) {
      const pct = r.compatible > 0 ? ` (${((r.updated / r.compatible) * 100).toFixed(1)}%)` : '';
      rows.push(['rollout', `${t(r.release)}: ${formatCount(r.updated)}/${formatCount(r.compatible)} updated${pct} · to 50% ${after(r.timeTo50Ms)} · 95% ${after(r.timeTo95Ms)} · 99% ${after(r.timeTo99Ms)}`]);
    }
    const causes = Object.entries(o.failuresByCause).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    rows.push(['updates', `${formatCount(o.succeeded)} committed · ${formatCount(o.failed)} failed · ${formatCount(o.rolledBack)} rolled back${causes.length > 0 ? ` (${causes.map(([c, n]) => `${t(c)} ${formatCount(n)}`).join(', ')})` : ''}`]);
    rows.push(['downloads', `${formatBytes(o.bytesDownloaded)} · saved ${formatBytes(o.bytesSavedByResume)} by resume, ${formatBytes(o.bytesSavedByDelta)} by deltas`]);
    for (const c of o.campaigns.filter((x) => x.state === 'aborted')) rows.push(['aborted', `${t(c.release)} at step ${c.step + 1}${c.reason ? `: ${t(c.reason)}` : ''}`]);
  }
  if (f?.commands || (rtt && rtt.count > 0)) {
    const answered = f?.commands ? `${formatCount(f.commands.answered)}/${formatCount(f.commands.sent)} answered` : '';
    const times = rtt && rtt.count > 0 ? `round trip p50 ${formatMicros(rtt.p50)} · p99 ${formatMicros(rtt.p99)}` : '';
    rows.push(['commands', [answered, times].filter(Boolean).join(' · ')]);
  }
  if (f?.config) {
    const ms = (v: number | null) => (v === null ? '–' : formatDuration(v));
    rows.push(['config', `${formatCount(f.config.applied)} applied · propagation p50 ${ms(f.config.p50Ms)} · p99 ${ms(f.config.p99Ms)}`]);
  }
  if (f?.logs) {
    const l = f.logs;
    rows.push(['logs', `${formatCount(l.generated)} lines · ${formatCount(l.sent)} sent · ${formatCount(l.dropped)} dropped · ${formatCount(s.counters['logs.suppressed_notices'] ?? 0)} "suppressed" notices${l.holds ? '' : '  (DOES NOT ADD UP)'}`]);
  }
  if (rows.length === 0) return [];
  return ['', '  FLEET OPERATIONS', ...alignColumns(rows, 99).map((l) => `  ${l}`)];
}

/** Battery lifetimes and energy by activity, when the run had energy models. */
function fleetSection(s: RunSummary): string[] {
  const f = s.fleet;
  if (!f?.batteryYears?.length && !f?.batteryBasis?.length) return [];
  const out = ['', `  BATTERY LIFETIME${f.projectedFromMs !== undefined ? ` · projected from ${formatDurationMs(f.projectedFromMs)} simulated` : ''}`];
  if (f.batteryYears?.length) {
    const rows = [['', 'devices', 'p5', 'p50', 'p95', 'min', 'depleted'], ...f.batteryYears.map((b) => [b.profile, formatCount(b.devices), formatLifetime(b.p5), formatLifetime(b.p50), formatLifetime(b.p95), formatLifetime(b.min), formatCount(b.depleted)])];
    out.push(...alignColumns(rows, 1).map((l) => `  ${l}`));
  }
  for (const b of f.batteryBasis ?? []) out.push(`    ${b.profile}: ${b.text}`);
  for (const e of f.energyByActivity ?? []) {
    const total = e.sleepJ + e.cpuJ + e.radioJ + e.otaJ;
    if (total <= 0) continue;
    const pct = (j: number) => `${((j / total) * 100).toFixed(1)}%`;
    out.push(`    ${e.profile} energy: sleep ${pct(e.sleepJ)} · radio ${pct(e.radioJ)} · cpu ${pct(e.cpuJ)} · ota ${pct(e.otaJ)}`);
  }
  return out;
}


function formatDurationMs(ms: number): string {
  const d = ms / 86_400_000;
  return d >= 1 ? `${d.toFixed(d < 10 ? 1 : 0)} days` : `${(ms / 3_600_000).toFixed(1)} h`;
}
