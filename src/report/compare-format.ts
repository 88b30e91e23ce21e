import type { Comparison, DistributionRow, RuleResult, RunRef } from './compare.js';
import { alignColumns, deltaPct, formatCount, formatDeltaPct, formatDuration, formatMicros, formatRate } from './format.js';

/** Renderings of a Comparison: a terminal table, GitHub-flavoured markdown (PR comments), JSON. */
export type CompareFormat = 'table' | 'md' | 'json';
export const COMPARE_FORMATS: readonly CompareFormat[] = ['table', 'md', 'json'];

const STAT_LABEL: Record<DistributionRow['stat'], string> = { p50: 'p50', p90: 'p90', p95: 'p95', p99: 'p99', p999: 'p99.9', max: 'max', avg: 'avg' };

function micros(v: number | null): string {
  return v === null ? 'no data' : formatMicros(v);
}

function ruleValue(r: RuleResult, v: number | null): string {
  if (v === null) return 'no data';
  if (r.latency) return formatMicros(v);
  if (r.agg === 'rate') return formatRate(v);
  return Number.isInteger(v) ? formatCount(v) : v.toFixed(2);
}

function ruleChange(r: RuleResult): string {
  return r.base === null || r.current === null ? (r.note ?? '–') : formatDeltaPct(deltaPct(r.base, r.current));
}

function runLine(ref: RunRef): string {
  return `run ${ref.id} · ${ref.scenario} · ${ref.startedAt} · ${formatDuration(ref.durationMs)} · ${formatCount(ref.devices)} devices`;
}

function resultLine(c: Comparison): string {
  if (c.rules.length === 0) return 'no regression rules given (exit 0)';
  return c.violations === 0
    ? `✓ all ${c.rules.length} regression rule${c.rules.length === 1 ? '' : 's'} held (exit 0)`
    : `✗ ${c.violations} of ${c.rules.length} regression rule${c.rules.length === 1 ? '' : 's'} violated (exit 99)`;
}

function formatTable(c: Comparison): string {
  const out = ['fleetsim compare', `  base     ${runLine(c.base)}`, `  current  ${runLine(c.current)}`];
  for (const n of c.notes) out.push(`  note: ${n}`);
  if (c.histograms.length > 0) {
    const rows = [['LATENCY', 'stat', 'base', 'current', 'change']];
    let last = '';
    for (const r of c.histograms) {
      rows.push([r.metric === last ? '' : r.metric, STAT_LABEL[r.stat], micros(r.base), micros(r.current), formatDeltaPct(r.deltaPct)]);
      last = r.metric;
    }
    out.push('', ...alignColumns(rows, 2));
  }
  if (c.counters.length > 0) {
    const rows = [['COUNTERS', 'base', 'current', 'delta', 'change']];
    for (const r of c.counters) rows.push([r.metric, formatCount(r.base), formatCount(r.current), `${r.delta > 0 ? '+' : ''}${formatCount(r.delta)}`, formatDeltaPct(r.deltaPct)]);
    out.push('', ...alignColumns(rows, 1));
  }
  if (c.rules.length > 0) {
    const rows = [['', 'REGRESSION RULES', 'base', 'current', 'limit', 'change']];
    for (const r of c.rules) rows.push([r.ok ? '✓' : '✗', r.rule, ruleValue(r, r.base), ruleValue(r, r.current), ruleValue(r, r.limit), ruleChange(r)]);
    out.push('', ...alignColumns(rows, 2));
  }
  out.push('', 'GENERATOR', ...generatorLines(c).map((l) => `  ${l}`));
  out.push('', `RESULT  ${resultLine(c)}`);
  return out.join('\n') + '\n';
}

/** Generator health of both runs, next to the regressions (a saturated generator's numbers are not the backend's). */
function generatorLines(c: Comparison): string[] {
  const line = (which: string, g: Comparison['generator']['base']) => [`${g.healthy ? '✓' : '✗'} generator ${which}: ${g.healthy ? 'kept up' : 'SATURATED'} · ${g.text}`, ...g.sendSide.map((x) => `  ${x}`)];
  return [...line('base   ', c.generator.base), ...line('current', c.generator.current)];
}

/** Markdown table cells may not hold a raw `|` or a newline. */
function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return '`' + md(text).replace(/`/g, "'") + '`';
}

/** Bold for changes a reviewer should look at (10% or more worse or better). */
function mdDelta(pct: number | null): string {
  const text = formatDeltaPct(pct);
  return pct !== null && Math.abs(pct) >= 10 ? `**${text}**` : text;
}

function formatMarkdown(c: Comparison): string {
  const head = c.violations > 0 ? `❌ ${c.violations} regression${c.violations === 1 ? '' : 's'}` : c.rules.length > 0 ? '✅ no regressions' : 'comparison';
  const out = [`### fleetsim compare: ${head}`, '', `**base** ${code(c.base.id)} (${md(c.base.scenario)}, ${formatDuration(c.base.durationMs)}, ${formatCount(c.base.devices)} devices) → **current** ${code(c.current.id)} (${md(c.current.scenario)}, ${formatDuration(c.current.durationMs)}, ${formatCount(c.current.devices)} devices)`];
  for (const n of c.notes) out.push('', `> ⚠️ ${md(n)}`);
  if (c.rules.length > 0) {
    out.push('', '| | rule | base | current | limit | change |', '|:-:|---|---:|---:|---:|---:|');
    for (const r of c.rules) out.push(`| ${r.ok ? '✅' : '❌'} | ${code(r.rule)} | ${ruleValue(r, r.base)} | ${ruleValue(r, r.current)} | ${ruleValue(r, r.limit)} | ${md(ruleChange(r))} |`);
  }
  out.push('', ...generatorLines(c).map((l) => `- ${md(l)}`));
  // The full tables fold away so that a PR comment leads with the rules.
  if (c.histograms.length > 0) {
    const metrics = new Set(c.histograms.map((r) => r.metric)).size;
    out.push('', `<details${c.rules.length === 0 ? ' open' : ''}><summary>Latency distributions (${metrics} metric${metrics === 1 ? '' : 's'})</summary>`, '');
    out.push('| latency | stat | base | current | change |', '|---|---|---:|---:|---:|');
    for (const r of c.histograms) out.push(`| ${code(r.metric)} | ${STAT_LABEL[r.stat]} | ${micros(r.base)} | ${micros(r.current)} | ${mdDelta(r.deltaPct)} |`);
    out.push('', '</details>');
  }
  if (c.counters.length > 0) {
    out.push('', `<details><summary>Counters (${c.counters.length})</summary>`, '');
    out.push('| counter | base | current | delta | change |', '|---|---:|---:|---:|---:|');
    for (const r of c.counters) out.push(`| ${code(r.metric)} | ${formatCount(r.base)} | ${formatCount(r.current)} | ${r.delta > 0 ? '+' : ''}${formatCount(r.delta)} | ${mdDelta(r.deltaPct)} |`);
    out.push('', '</details>');
  }
  out.push('', `<sub>${md(resultLine(c))}</sub>`);
  return out.join('\n') + '\n';
}

/** JSON: the Comparison itself; infinite changes (from a zero baseline) become the string "inf". */
function formatJson(c: Comparison): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? 'inf' : '-inf') : v), 2) + '\n';
}

export function formatComparison(c: Comparison, format: CompareFormat): string {
  return format === 'md' ? formatMarkdown(c) : format === 'json' ? formatJson(c) : formatTable(c);
}
