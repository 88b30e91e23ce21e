import { writeFileAtomic } from './atomic-file.js';
import { escapeXml } from './escape.js';
import { accountingEquation, formatMicros, runCompletedProblems } from './format.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { ThresholdResult } from '../summary/verdict.js';
import type { ReportWriter } from './report-writer.js';

/**
 * `junit.xml` for CI servers: one testsuite, one testcase per threshold (named
 * `<metric>: <expression>`) and one `run completed` testcase that fails when the run did not
 * complete, the accounting identity does not hold or the generator saturated. The shape follows
 * the Ant/Jenkins JUnit schema (test/fixtures/junit/junit.xsd validates it).
 */

interface Case {
  name: string;
  classname: string;
  failure?: { message: string; type: string; body: string };
  out: string;
}

function thresholdCase(t: ThresholdResult): Case {
  const measured = t.value === null ? 'no data' : t.display;
  const out = `${t.metric}: ${t.expression}\nmeasured: ${measured}\nresult: ${t.ok ? 'passed' : 'failed'}`;
  return {
    name: `${t.metric}: ${t.expression}`,
    classname: 'fleetsim.thresholds',
    out,
    failure: t.ok ? undefined : { message: `${t.expression} failed: measured ${measured}`, type: 'ThresholdFailed', body: out },
  };
}

function runCompletedCase(s: RunSummary): Case {
  const problems = runCompletedProblems(s);
  const g = s.generator;
  const lines = [
    `status: ${s.run.status}`,
    `verdict: ${s.result.verdict} (exit ${s.result.exitCode})`,
    `accounting: ${accountingEquation(s)} (${s.accounting.holds ? 'holds' : 'DOES NOT HOLD'})`,
    `generator: max schedule lag ${formatMicros(g.maxScheduleLagMs * 1000)}, max event-loop delay ${formatMicros(g.maxEventLoopDelayMs * 1000)}, bound ${formatMicros(g.boundMs * 1000)}${g.saturated ? ' (SATURATED)' : ''}`,
    ...s.result.reasons.map((r) => `reason: ${r}`),
    ...(s.run.warnings ?? []).map((w) => `warning: ${w}`),
  ];
  return {
    name: 'run completed',
    classname: 'fleetsim.run',
    out: lines.join('\n'),
    failure: problems.length === 0 ? undefined : { message: problems.join('; '), type: 'RunInvalid', body: lines.join('\n') },
  };
}

/** xs:dateTime without zone or fraction, the form the strict Ant schema accepts. */
function junitTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '1970-01-01T00:00:00' : d.toISOString().slice(0, 19);
}

export function renderJunit(s: RunSummary): string {
  const cases = [...s.thresholds.map(thresholdCase), runCompletedCase(s)];
  const failures = cases.filter((c) => c.failure).length;
  const time = (s.run.wallMs / 1000).toFixed(3);
  const suiteName = `fleetsim.${s.run.scenario}`;
  const props: Array<[string, string | number]> = [
    ['run.id', s.run.id],
    ['scenario', s.run.scenario],
    ['scenario.file', s.run.scenarioFile],
    ['seed', s.run.seed],
    ['clock', s.run.clock],
    ['target', s.run.target],
    ['devices', s.run.devices],
    ['verdict', s.result.verdict],
    ['exit.code', s.result.exitCode],
    ['fleetsim.version', s.tool.version],
  ];
  const x = escapeXml;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fleetsim" tests="${cases.length}" failures="${failures}" errors="0" time="${time}">`,
    `  <testsuite name="${x(suiteName)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${time}" timestamp="${junitTimestamp(s.run.startedAt)}" hostname="localhost" id="0" package="fleetsim">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${x(k)}" value="${x(v)}"/>`),
    '    </properties>',
  ];
  for (const c of cases) {
    lines.push(`    <testcase name="${x(c.name)}" classname="${x(c.classname)}" time="0">`);
    if (c.failure) lines.push(`      <failure message="${x(c.failure.message)}" type="${x(c.failure.type)}">${x(c.failure.body)}</failure>`);
    lines.push(`      <system-out>${x(c.out)}</system-out>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

export const junitWriter: ReportWriter = {
  name: 'junit',
  file: 'junit.xml',
  async write(dir, summary) {
    await writeFileAtomic(dir, this.file, renderJunit(summary));
  },
};
