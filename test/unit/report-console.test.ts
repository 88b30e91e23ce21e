import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatProgressLine, formatSummaryTable, PROGRESS_COLUMNS, ProgressPrinter } from '../../src/report/console.js';
import { formatDuration, formatMicros } from '../../src/report/format.js';
import { renderHtml } from '../../src/report/html.js';
import { escapeHtml } from '../../src/report/escape.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

const { summary, timeline } = syntheticRun({ intervals: 30, devices: 100 });

describe('formatSummaryTable', () => {
  const text = formatSummaryTable(summary, { reportPath: 'reports/x/report.html' });

  it('prints latency rows in human units, counters with rates, and gauges', () => {
    const ack = text.split('\n').find((l) => l.trimStart().startsWith('telemetry.ack.latency '))!;
    expect(ack).toMatch(/telemetry\.ack\.latency \.+ /);
    const st = summary.histograms['telemetry.ack.latency'].stats;
    expect(ack).toContain(st.count.toLocaleString('en-US'));
    expect(ack).toMatch(/\d(\.\d+)?ms/);
    const sent = text.split('\n').find((l) => l.trimStart().startsWith('telemetry.sent '))!;
    expect(sent).toContain(summary.counters['telemetry.sent'].toLocaleString('en-US'));
    expect(sent).toMatch(/\/s$/);
    expect(text).toMatch(/counters? at zero not shown/);
    expect(text).toMatch(/devices\.online \.+ +100/);
    // The gauge is read at the end (0 after a real run's disconnect): the peak and the count before the end follow it.
    expect(text).toContain('devices online: peak 100 · 100 just before the end');
  });

  it('prints thresholds with ✓/✗, the accounting identity, generator health, verdict, exit code and report path', () => {
    for (const t of summary.thresholds) expect(text).toMatch(new RegExp(`${t.ok ? '✓' : '✗'}\\s+${t.metric.replace(/\./g, '\\.')}\\s+${t.expression.replace(/[()]/g, '\\$&')}`));
    const a = summary.accounting;
    expect(text).toContain(`✓ generated ${a.generated.toLocaleString('en-US')} = acked ${a.acked.toLocaleString('en-US')} + sent_noack`);
    expect(text).toContain('(holds)');
    expect(text).toMatch(/backend's side: received [\d,]+ · duplicates 0 · gaps 0 · lost between simulator and backend 0/);
    expect(text).toMatch(/✓ schedule lag [\d.]+ms, event-loop delay [\d.]+ms, bound [\d.]+ms \(50% of the tightest latency threshold, telemetry.ack.latency p\(99\) < 50ms\)/);
    expect(text).toContain(`RESULT  ✓ PASSED  (exit 0)`);
    expect(text.trimEnd().endsWith('report: reports/x/report.html')).toBe(true);
  });

  it("with an external target, states fleetsim's known losses and that the backend's side is not visible (console and HTML)", () => {
    const ext = structuredClone(summary);
    delete ext.accounting.backend;
    Object.assign(ext.accounting, { lostOnLink: 2, inTransitAtDrop: 5, inTransitAtEnd: 7 });
    ext.accounting.acked -= 14;
    const a = ext.accounting;
    for (const [out, as] of [[formatSummaryTable(ext), (x: string) => x], [renderHtml(ext, timeline), escapeHtml]] as const) {
      expect(out).toContain(as(`fleetsim's side: ${(a.dropped + 7).toLocaleString('en-US')} never reached the backend (dropped on the device ${a.dropped.toLocaleString('en-US')}, lost on the link 2, on the link when the session ended 5); 7 were still on the link when the run ended.`));
      expect(out).toContain(as(`backend's side: not visible.`));
      expect(out).toContain(as(`whether the ${a.sentNoAck.toLocaleString('en-US')} QoS 0 messages written to a session and the ${a.failed.toLocaleString('en-US')} QoS 1 messages left without a PUBACK arrived`));
      expect(out).not.toContain('lost between simulator and backend');
    }
    expect(formatSummaryTable(ext)).toContain('lost on link 2 + in transit at drop 5 + in transit at end 7 + buffered');
  });

  it('says why a run is not valid', () => {
    const bad = structuredClone(summary);
    bad.accounting.holds = false;
    bad.accounting.dropped += 3;
    bad.generator.saturated = true;
    bad.thresholds[0] = { ...bad.thresholds[0], ok: false, display: '1.20s' };
    bad.result = { verdict: 'invalid', exitCode: 3, reasons: ['the generator fell behind'] };
    const t = formatSummaryTable(bad);
    expect(t).toContain('✗ INVALID MEASUREMENT  (exit 3)');
    expect(t).toContain('≠ acked');
    expect(t).toContain('DOES NOT HOLD');
    expect(t).toContain('SATURATED');
    expect(t).toMatch(/✗\s+telemetry\.ack\.latency\s+p\(99\) < 50ms\s+measured 1\.20s/);
    expect(t).toContain('- the generator fell behind');
  });

  it('prints a FLEET OPERATIONS section only for runs with fleet operations', () => {
    expect(text).not.toContain('FLEET OPERATIONS');
    const full = syntheticRun({ intervals: 20, devices: 60, full: true }).summary;
    const f = full.fleet!;
    f.ota!.campaigns[1].reason = 'tripped \u001b[2J';
    const ops = formatSummaryTable(full);
    const section = ops.slice(ops.indexOf('FLEET OPERATIONS'), ops.indexOf('BATTERY LIFETIME'));
    const r = f.ota!.releases[0];
    expect(section).toContain(`${r.updated}/${r.compatible} updated`);
    expect(section).toContain(`to 50% +${formatDuration(r.timeTo50Ms!)} · 95% +${formatDuration(r.timeTo95Ms!)} · 99% +${formatDuration(r.timeTo99Ms!)}`);
    expect(section).toContain(`${f.ota!.failed} failed · ${f.ota!.rolledBack} rolled back (health-check 4, `);
    const rtt = full.histograms['command.rtt'].stats;
    expect(section).toContain(`${f.commands!.answered}/${f.commands!.sent} answered · round trip p50 ${formatMicros(rtt.p50)} · p99 ${formatMicros(rtt.p99)}`);
    expect(section).toContain(`propagation p50 ${formatDuration(f.config!.p50Ms!)} · p99 ${formatDuration(f.config!.p99Ms!)}`);
    expect(section).toContain(`${f.logs!.dropped.toLocaleString('en-US')} dropped`);
    // A device-supplied escape sequence never reaches the terminal.
    expect(section).toContain('tripped �[2J');
    expect(section).not.toContain('\u001b');
  });
});

describe('progress', () => {
  const row = timeline[20];

  it('formats one status line: progress, devices, rates, ack p99, errors, lag', () => {
    const line = formatProgressLine(row, 21_000, 30_000, 100, 1000, 200);
    expect(line).toMatch(/^█+░+ +70%/);
    expect(line).toContain('21.0s/30.0s');
    expect(line).toContain('online 100/100');
    expect(line).toContain(`sent ${row.counters['telemetry.sent']}.0/s`);
    expect(line).toMatch(/ack p99 [\d.]+ms/);
    expect(line).toMatch(/lag \d+ms$/);
    expect(line).not.toContain('\n');
  });

  it('fits 80 columns by dropping the least important fields first: lag, then the send rate, then the bar', () => {
    const big = { ...row, counters: { ...row.counters, 'telemetry.sent': 123_456_000, 'telemetry.acked': 123_456_000 }, gauges: { ...row.gauges, 'devices.online': 456_789 } };
    const full = formatProgressLine(big, 5 * 3_600_000, 24 * 3_600_000, 500_000, 1000, 1000);
    expect(full.length).toBeGreaterThan(100);
    const fit = formatProgressLine(big, 5 * 3_600_000, 24 * 3_600_000, 500_000, 1000);
    expect(fit.length).toBeLessThanOrEqual(PROGRESS_COLUMNS);
    expect(fit).not.toContain('lag');
    expect(fit).not.toContain('sent');
    expect(fit).not.toContain('█');
    for (const kept of ['21%', '5h00m/24h00m', 'online 456,789/500,000', 'errors', 'acked']) expect(fit).toContain(kept);
    // A narrow terminal keeps the percentage and the time to the last.
    expect(formatProgressLine(big, 5 * 3_600_000, 24 * 3_600_000, 500_000, 1000, 20)).toBe(' 21%  5h00m/24h00m');
  });

  function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
    const stream = Object.assign(new PassThrough(), { isTTY });
    let out = '';
    stream.on('data', (d) => (out += d));
    return { stream, text: () => out };
  }

  it('rewrites one line on a terminal', () => {
    const { stream, text } = capture(true);
    const p = new ProgressPrinter({ totalMs: 30_000, devices: 100, stream, mode: 'tty' });
    for (const r of timeline) p.update(r);
    p.done();
    expect(p.mode).toBe('tty');
    expect(text().split('\r\x1b[2K').length - 1).toBe(timeline.length);
    expect(text().match(/\n/g)).toHaveLength(1);
    expect(text().endsWith('\n')).toBe(true);
  });

  it('prints plain lines every 5% of progress when snapshots come fast, plus the last one', () => {
    const { stream, text } = capture(false);
    // 720 snapshots in 4 s of wall time, as a virtual-clock run does.
    let wall = 0;
    const p = new ProgressPrinter({ totalMs: 720_000, devices: 100, stream, now: () => wall });
    for (let k = 1; k <= 720; k++) {
      wall = (k * 4000) / 720;
      p.update({ ...row, interval: k, tMs: k * 1000 });
    }
    p.done();
    expect(p.mode).toBe('plain');
    const pcts = text().trimEnd().split('\n').map((l) => Number(/(\d+)%/.exec(l)?.[1]));
    expect(pcts.length).toBeGreaterThanOrEqual(20);
    expect(pcts.length).toBeLessThanOrEqual(22); // was one line per snapshot (720)
    expect(pcts[0]).toBe(0);
    expect(pcts.at(-1)).toBe(100);
    for (let i = 1; i < pcts.length; i++) expect(pcts[i] - pcts[i - 1]).toBeGreaterThanOrEqual(4);
    expect(text()).not.toContain('\r');
  });

  it('prints plain lines every 10 s of wall time when progress is slow', () => {
    const { stream, text } = capture(false);
    let wall = 0;
    const p = new ProgressPrinter({ totalMs: 3_600_000, devices: 100, stream, now: () => wall });
    for (const r of timeline) {
      wall = r.tMs; // a wall-clock run: one snapshot per second
      p.update(r);
    }
    p.done();
    const lines = text().trimEnd().split('\n');
    // t = 1s, 11s, 21s, then the final 30s line from done().
    expect(lines.map((l) => /([\d.]+)s\/1h00m/.exec(l)?.[1])).toEqual(['1.00', '11.0', '21.0', '30.0']);
  });

  it('uses plain lines under CI even on a terminal', () => {
    const prev = process.env.CI;
    process.env.CI = 'true';
    try {
      expect(new ProgressPrinter({ totalMs: 1, devices: 1, stream: capture(true).stream }).mode).toBe('plain');
      process.env.CI = '';
      expect(new ProgressPrinter({ totalMs: 1, devices: 1, stream: capture(true).stream }).mode).toBe('tty');
    } finally {
      if (prev === undefined) delete process.env.CI;
      else process.env.CI = prev;
    }
  });
});
