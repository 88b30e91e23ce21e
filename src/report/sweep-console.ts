import { alignColumns, formatCount, formatDuration, formatMicros } from './format.js';
import type { Verdict } from '../summary/verdict.js';
import { KNEE_RULE, type SweepSummary } from '../summary/sweep-summary.js';
import { formatValue } from './sweep-svg.js';

const VERDICT_TEXT: Record<Verdict, string> = {
  passed: '✓ passed',
  thresholds_failed: '✗ thresholds failed',
  invalid: '! invalid',
  interrupted: '■ interrupted',
  error: '✗ error',
};

/** `telemetry.ack.latency` -> `telemetry.ack`: the column headers of the p99 columns. */
function shortMetric(name: string): string {
  return name.replace(/\.latency/, '');
}

/**
 * The end-of-sweep table for the terminal: one row per size with throughput, error rate, the p99
 * of every latency metric, thresholds held and the verdict; then the knee and the result.
 */
export function formatSweepTable(s: SweepSummary, reportPath?: string): string {
  const metrics = [...new Set(s.points.flatMap((p) => Object.keys(p.latencies)))];
  const cap = s.capacity;
  const rows: string[][] = [[cap ? cap.parameter : 'devices', 'acked/s', 'errors', ...metrics.map((m) => `p99 ${shortMetric(m)}`), 'thresholds', 'wall', 'verdict']];
  for (const p of s.points) {
    rows.push([
      cap && p.capacity !== undefined ? formatCount(p.capacity) : formatCount(p.devices),
      p.throughputPerSec === null ? '–' : formatValue('rate', p.throughputPerSec),
      p.errorRate === null ? '–' : formatValue('share', p.errorRate),
      ...metrics.map((m) => (p.latencies[m] ? formatMicros(p.latencies[m].p99) : '–')),
      `${p.thresholds.filter((t) => t.ok).length}/${p.thresholds.length}`,
      formatDuration(p.wallMs),
      VERDICT_TEXT[p.verdict],
    ]);
  }
  const out: string[] = [`  fleetsim ${s.tool.version} · sweep ${s.sweep.id} · ${s.sweep.scenario} · ${s.sweep.clock} clock · seed ${s.sweep.seed}`, ''];
  out.push(...alignColumns(rows, 0).map((l) => `  ${l}`));
  out.push('');
  if (cap) out.push(cap.chosen === null ? `  CAPACITY: no value of ${cap.parameter} tried holds every threshold` : `  CAPACITY: ${cap.parameter} = ${cap.chosen}, the smallest value tried that holds every threshold`);
  else if (s.knee) {
    out.push(`  KNEE at ${formatCount(s.knee.devices)} devices`);
    for (const r of s.knee.reasons) out.push(`    - ${r}`);
    out.push(`    (the knee is ${KNEE_RULE})`);
  } else out.push(`  no knee: no size met the rule (${KNEE_RULE})`);
  out.push('', `  RESULT  ${VERDICT_TEXT[s.result.verdict].toUpperCase()}  (exit ${s.result.exitCode})`);
  for (const r of s.result.reasons) out.push(`    - ${r}`);
  if (reportPath) out.push(`  report: ${reportPath}`);
  return out.join('\n') + '\n';
}
