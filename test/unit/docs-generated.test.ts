import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS, SHARE_OF } from '../../src/metrics/catalog.js';
import { METRICS_DOC_COMMAND, renderMetricsDoc } from '../../src/metrics/reference.js';
import { DEFAULTS_BEGIN, renderScenarioDefaults, scenarioDefaults } from '../../src/scenario/defaults-doc.js';
import { renderLinkTableBlock } from '../../src/models/link-table.js';
import { LINK_TYPE_NAMES, LINK_TYPES, linkFigures } from '../../src/models/link-types.js';

/**
 * Generated docs stay equal to the code they are generated from. When one fails, regenerate:
 * `npm run docs` (the message says so).
 */
const ROOT = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('docs/metrics.md', () => {
  const doc = renderMetricsDoc();

  it('is the text generated from the metric catalogue', () => {
    const committed = read('docs/metrics.md');
    expect(committed === doc, `docs/metrics.md is out of date with src/metrics/catalog.ts: run \`${METRICS_DOC_COMMAND}\` and commit the result`).toBe(true);
  });

  it('has a row for every metric with its unit and what `rate` means for it', () => {
    for (const m of METRICS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
      expect(row, m.name).toBeDefined();
      if (m.kind === 'counter') expect(row, m.name).toMatch(SHARE_OF[m.name] ? /share of / : /per second/);
    }
  });

  it('says which metric counts lost messages', () => {
    expect(doc).toContain('## Which metric counts lost messages');
    for (const n of ['telemetry.lost', 'link.messages_lost', 'link.packets_lost', 'lost between']) expect(doc).toContain(n);
  });
});

describe("README's scenario defaults", () => {
  it('are the table generated from the scenario schema', () => {
    const readme = read('README.md');
    const block = renderScenarioDefaults();
    expect(readme.includes(block), `README.md's scenario defaults are out of date with src/scenario/schema.ts: run \`${METRICS_DOC_COMMAND}\` and commit the result`).toBe(true);
    expect(readme.indexOf(DEFAULTS_BEGIN)).toBeGreaterThan(0);
  });

  it('include the defaults a user asked about', () => {
    const paths = new Map(scenarioDefaults().map((d) => [d.path, d.value]));
    expect(paths.get('phases[].update.minSample')).toBe(10);
    expect(paths.get('phases[].outage.scope')).toBe('cell');
    expect(paths.get('timeScale')).toBe(1);
    expect(paths.get('behaviour.reconnect.cap')).toBe('128s');
  });
});

describe('docs/models.md', () => {
  const doc = read('docs/models.md');

  it("holds the link figures generated from the link models", () => {
    const block = renderLinkTableBlock(LINK_TYPE_NAMES.map((n) => linkFigures(LINK_TYPES[n])));
    expect(doc.includes(block), `docs/models.md's link table is out of date with src/models/link-types.ts: run \`${METRICS_DOC_COMMAND}\` and commit the result`).toBe(true);
  });

  it('covers every model, with equations and sources', () => {
    for (const h of ['## Energy', '## Links', '## TCP retransmission', '## Outages and reachability', '## Reconnect backoff', '## LoRaWAN airtime and duty cycle', '## Update campaigns (rollouts)', '## The virtual backend', '## Sources']) expect(doc).toContain(h);
    for (const s of ['Gilbert', 'Elliott', 'RFC 6298', 'Exponential Backoff And Jitter', 'Regional Parameters', 'AN1200.13']) expect(doc).toContain(s);
  });

  it('is what the project cites: no citation of design notes that are not in the repository', () => {
    // Every committed text file: docs, bench write-ups, sources, scenarios, profiles.
    const files = execFileSync('git', ['ls-files', '*.md', '*.ts', '*.mjs', '*.py', '*.yaml'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f && !f.startsWith('test/'));
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) expect(read(f), f).not.toMatch(/(?<!docs\/)(MODELS|DESIGN|PLATFORMS|STYLE)\.md|\.\.\/shared\//);
  });
});

describe('README', () => {
  it('shows scenarios/quickstart.yaml exactly as shipped', () => {
    const readme = read('README.md');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    const example = blocks.find((b) => /^name: quickstart$/m.test(b));
    expect(example, 'README has a yaml block with name: quickstart').toBeDefined();
    expect(example).toBe(read('scenarios/quickstart.yaml'));
  });
});
