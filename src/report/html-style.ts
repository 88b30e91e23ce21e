/** The report page's stylesheet, inlined: light and dark themes follow the reader's system setting. */
export const REPORT_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --card: #ffffff; --ink: #14171f; --muted: #5d6472; --line: #e3e6eb; --grid: #eceef2;
  --good: #0f8a5f; --good-bg: #e3f6ee; --bad: #c92a3a; --bad-bg: #fde8ea; --warn: #a35d00; --warn-bg: #fff1db;
  --idle: #59606d; --idle-bg: #eceef2; --accent: #3355ff;
  --c-sent: #3b6cf6; --c-acked: #10a37f; --c-p50: #10a37f; --c-p95: #e08a00; --c-p99: #d6336c; --c-bad: #d6336c;
  --s0: #3b6cf6; --s1: #10a37f; --s2: #e08a00; --s3: #d6336c; --s4: #7b52e0; --s5: #0f9fb5; --s6: #8a6d3b; --s7: #6b7280;
  --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 1px 3px rgba(16, 24, 40, .06);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1014; --card: #161a21; --ink: #e7e9ee; --muted: #98a0ae; --line: #272c36; --grid: #20252e;
    --good: #4cd6a0; --good-bg: #11302a; --bad: #ff7a86; --bad-bg: #3a1a20; --warn: #ffbe5c; --warn-bg: #3a2a12;
    --idle: #b6bcc7; --idle-bg: #262b34; --accent: #7d97ff;
    --c-sent: #7d97ff; --c-acked: #4cd6a0; --c-p50: #4cd6a0; --c-p95: #ffbe5c; --c-p99: #ff7aa8; --c-bad: #ff7a86;
    --s0: #7d97ff; --s1: #4cd6a0; --s2: #ffbe5c; --s3: #ff7aa8; --s4: #b197ff; --s5: #5fd3e6; --s6: #d4b483; --s7: #a3aab5;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; line-height: 1.2; margin: 4px 0 0; letter-spacing: -.01em; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 0 0 12px; letter-spacing: -.005em; }
h3 { font-size: 14px; margin: 0; font-weight: 600; overflow-wrap: anywhere; }
section { margin-top: 28px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; box-shadow: var(--shadow); padding: 18px 20px; }
.muted { color: var(--muted); }
.mono, code { font-family: var(--mono); font-size: 12.5px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.eyebrow { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-weight: 600; }
.hero { display: grid; grid-template-columns: 1fr auto; gap: 12px 24px; align-items: start; }
.hero .facts { grid-column: 1 / -1; }
.hero .badge { justify-self: start; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 6px 14px; border-radius: 999px; font-weight: 700; font-size: 14px; white-space: nowrap; }
.badge small { font-weight: 500; opacity: .8; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-weight: 600; font-size: 12px; }
.good { color: var(--good); background: var(--good-bg); }
.bad { color: var(--bad); background: var(--bad-bg); }
.warn { color: var(--warn); background: var(--warn-bg); }
.idle { color: var(--idle); background: var(--idle-bg); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px 20px; margin: 8px 0 0; }
.facts div { min-width: 0; }
.facts div.wide { grid-column: span 2; }
.card > figure.chart { margin-top: 16px; padding-top: 14px; border-top: 1px solid var(--line); }
.facts dt { font-size: 11.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; }
.facts dd { margin: 2px 0 0; font-weight: 600; overflow-wrap: anywhere; }
.reasons { margin: 6px 0 0; padding-left: 18px; color: var(--muted); }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 18px; }
nav.toc a { color: var(--muted); text-decoration: none; font-size: 13px; padding: 4px 10px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); }
nav.toc a:hover { color: var(--ink); border-color: var(--accent); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.tile { padding: 14px 16px; }
.tile .v { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; letter-spacing: -.01em; }
.tile .l { font-size: 12.5px; color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 8px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: baseline; }
th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
tbody tr:last-child td { border-bottom: 0; }
tr[data-ok="false"] td { background: color-mix(in srgb, var(--bad-bg) 55%, transparent); }
td.metric { font-family: var(--mono); font-size: 12.5px; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; padding: 6px 8px; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; align-items: start; }
.equation { display: flex; flex-wrap: wrap; align-items: stretch; gap: 5px; margin: 4px 0 14px; }
.term { border: 1px solid var(--line); border-radius: 10px; padding: 6px 10px; }
.term b { display: block; font-size: 16px; font-variant-numeric: tabular-nums; }
.term span { font-size: 11.5px; color: var(--muted); font-family: var(--mono); }
.op { align-self: center; color: var(--muted); font-size: 16px; }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 4px 16px; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.sides { margin: 0; padding-left: 18px; color: var(--muted); font-size: 13px; }
.sides li { margin: 2px 0; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure.chart { margin: 0; position: relative; min-width: 0; }
figure.chart figcaption { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; align-items: baseline; }
figure.chart .sub { font-size: 12.5px; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 6px; margin: 8px 0 4px; min-height: 24px; }
.key { font: inherit; font-size: 12px; color: var(--ink); background: none; border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px 1px 8px; cursor: pointer; display: inline-flex; align-items: center; gap: 6px; }
.key.off { opacity: .45; text-decoration: line-through; }
.key i, .tip i { display: inline-block; width: 10px; height: 10px; border-radius: 3px; }
.key.ref i { height: 2px; }
.plot { width: 100%; min-height: 200px; }
.plot svg { display: block; width: 100%; height: auto; overflow: visible; }
.plot .grid line { stroke: var(--grid); stroke-width: 1; }
.plot .grid text { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
.plot .axis { stroke: var(--line); }
.plot .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.plot .line.ref { stroke-width: 1.5; stroke-dasharray: 6 5; }
.plot .area { opacity: .12; stroke: none; }
.plot .hit { fill: transparent; cursor: crosshair; }
.plot .bar { opacity: .85; }
.plot .marker { stroke-width: 1.2; stroke-dasharray: 4 4; opacity: .9; }
.plot .phase.band { fill: var(--c-bad); opacity: .10; }
.plot line.phase { stroke: var(--muted); stroke-width: 1.2; stroke-dasharray: 2 3; }
.plot line.phase.line-abort, .plot line.phase.line-outage, .plot line.phase.line-cell-outage { stroke: var(--c-bad); }
.plot line.phase.line-campaign, .plot line.phase.line-step { stroke: var(--c-sent); }
.plot .phase-label { font-size: 10.5px; fill: var(--muted); paint-order: stroke; stroke: var(--card); stroke-width: 3px; stroke-linejoin: round; }
.plot .phase-label[data-kind="abort"] { fill: var(--c-bad); font-weight: 600; }
#scenario details summary { cursor: pointer; font-weight: 600; }
#scenario pre { overflow-x: auto; font-size: 12.5px; margin: 12px 0 0; }
#battery-lifetimes .basis { margin: 10px 0 0; padding-left: 18px; color: var(--muted); font-size: 13px; }
.plot .marker-label { font-size: 11px; font-weight: 600; paint-order: stroke; stroke: var(--card); stroke-width: 3px; stroke-linejoin: round; }
.plot text.cat { fill: var(--ink); font-size: 12px; }
.plot text.val { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
.chart.bars .plot { min-height: 0; }
.chart .legend:empty { display: none; }
.ops { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(460px, 100%), 1fr)); gap: 16px; align-items: start; margin-top: 16px; }
.ops > .card { min-width: 0; }
.ops .wide-card { grid-column: 1 / -1; }
.tiles.ops-tiles { grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); margin-top: 0; }
.ops .card h2 { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.ops .card > figure.chart:first-of-type { margin-top: 12px; }
.ops .kv { margin-top: 4px; }
.ops .table-wrap { padding: 0; margin-top: 12px; }
.ops td, .ops th { padding: 6px 8px; }
.tile[data-tone="bad"] .v { color: var(--bad); }
.tile[data-tone="good"] .v { color: var(--good); }
.plot .cross { stroke: var(--muted); stroke-dasharray: 3 3; display: none; pointer-events: none; }
.tip { position: absolute; z-index: 2; pointer-events: none; background: var(--card); border: 1px solid var(--line); border-radius: 8px; box-shadow: 0 4px 16px rgba(0, 0, 0, .14); padding: 6px 10px; font-size: 12px; white-space: nowrap; font-variant-numeric: tabular-nums; }
.tip-head { font-weight: 600; margin-bottom: 2px; }
.tip div { display: flex; align-items: center; gap: 6px; }
.latency-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; margin-top: 16px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; text-align: center; }
@media (max-width: 640px) {
  main { padding: 18px 12px 36px; }
  .hero { grid-template-columns: 1fr; }
  .plots, .latency-row, .two, .ops { grid-template-columns: 1fr; }
  h1 { font-size: 21px; }
}
@media print { nav.toc { display: none; } .card { box-shadow: none; break-inside: avoid; } }
`;
