import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlWriter } from '../../src/report/html.js';
import { chromiumMissingReason, launchChromium } from '../helpers/chromium.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/**
 * report.html in a real browser: it must render every plot with data, raise no error, fetch
 * nothing from the network, and escape hostile names. The screenshot lands in test-output/.
 */
const missing = chromiumMissingReason();
if (missing) console.warn(`report-html: skipping: ${missing}`);

const HOSTILE = 'fleet <script>alert(1)</script> "rollout"';

describe.runIf(!missing)('report.html in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  const run = syntheticRun({ intervals: 90, devices: 300, scenario: HOSTILE, full: true });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetsim-html-'));
    await htmlWriter.write(dir, run.summary, run.timeline);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => {
      pageErrors.push(`dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(join(dir, htmlWriter.file)).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders without console errors, page errors or network requests', () => {
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
  });

  it('draws every plot with data as SVG', async () => {
    const plots = await page.$$eval('[data-plot]', (els) =>
      els.map((el) => ({
        id: el.getAttribute('data-plot'),
        points: Number(el.getAttribute('data-points')),
        paths: el.querySelectorAll('svg path').length,
        rects: el.querySelectorAll('svg rect').length,
      })),
    );
    const ids = plots.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['throughput', 'errors', 'devices', 'generator', 'latency.telemetry.ack.latency', 'hdr.telemetry.ack.latency', 'rollout', 'offline-share', 'config-propagation', 'battery-lifetime',
      'ota-failures', 'ota-bytes', 'ota-energy', 'command-rtt', 'depleted', 'energy-by-activity']));
    for (const p of plots) {
      expect(p.points, p.id!).toBeGreaterThan(0);
      expect(p.paths + p.rects, p.id!).toBeGreaterThan(0);
    }
  });

  it('has a thresholds table with one row per threshold', async () => {
    const rows = await page.$$eval('#thresholds-table tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    expect(rows).toEqual(run.summary.thresholds.map((t) => t.metric));
  });

  it('shows hostile names as text, never as markup', async () => {
    expect(await page.$eval('h1', (h) => h.textContent)).toBe(HOSTILE);
    expect(await page.$$eval('script', (ss) => ss.length)).toBe(2);
    const legend = await page.$eval('[data-plot="rollout"] .legend', (l) => l.textContent);
    expect(legend).toContain('<img src=x onerror=alert(1)>');
    expect(await page.$$eval('img', (imgs) => imgs.length)).toBe(0);
    // Device- and backend-supplied strings in the fleet operations tables and bar labels.
    expect(await page.$eval('#campaigns-table', (t) => t.textContent)).toContain('<script>alert(2)</script>');
    expect(await page.$$eval('[data-plot="ota-energy"] svg text.cat title', (ts) => ts.map((t) => t.textContent))).toContain('nrf9160-ltem-tracker <b>');
    expect(await page.$$eval('b', (bs) => bs.filter((b) => b.closest('.ops') && !b.closest('.term')).length)).toBe(0);
  });

  it('draws the fleet operations bars, histogram and markers', async () => {
    const bars = await page.$$eval('[data-plot="ota-failures"] svg rect.bar', (rs) => rs.length);
    expect(bars).toBe(Object.values(run.summary.fleet!.ota!.failuresByCause).filter((n) => n > 0).length);
    expect(await page.$$eval('[data-plot="command-rtt"] svg rect.bar', (rs) => rs.length)).toBeGreaterThan(3);
    expect(await page.$$eval('[data-plot="rollout"] svg .marker-label', (ts) => ts.map((t) => t.textContent))).toEqual(['start', '50%', '95%', '99%', 'start']);
    expect(await page.$eval('#rollout-table tbody', (t) => t.textContent)).toContain('app-2.0 <img src=x onerror=alert(1)>');
  });

  it('marks what happened on every run-time chart: outage bands, campaign start, steps, abort, config push, commands', async () => {
    const charts = await page.$$eval('figure[data-plot]', (figs) =>
      figs.map((f) => ({
        id: f.getAttribute('data-plot')!,
        kinds: [...new Set([...f.querySelectorAll('svg .phase')].map((e) => e.getAttribute('data-kind')))].sort(),
        bands: f.querySelectorAll('svg rect.phase.band').length,
        labels: [...f.querySelectorAll('svg text.phase-label')].map((t) => t.textContent),
      })),
    );
    const all = ['abort', 'campaign', 'cell-outage', 'command', 'config', 'step'];
    for (const id of ['throughput', 'errors', 'devices', 'generator', 'latency.telemetry.ack.latency', 'rollout', 'offline-share', 'depleted']) {
      const c = charts.find((x) => x.id === id)!;
      expect(c.kinds, id).toEqual(all);
      expect(c.bands, id).toBe(1);
      expect(c.labels, id).toContain('campaign app-2.0 <b>');
      expect(c.labels, id).toContain('app-2.1-beta aborted');
    }
    // Not on axes that are not run time.
    for (const id of ['hdr.telemetry.ack.latency', 'battery-lifetime', 'config-propagation']) expect(charts.find((x) => x.id === id)!.kinds, id).toEqual([]);
  });

  it('shows battery lifetime p5, p50 and p95 per profile in years, and what each projection rests on', async () => {
    const rows = await page.$$eval('#battery-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(await page.$$eval('#battery-table thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['profile', 'devices', 'p5', 'p50', 'p95', 'min', 'depleted']);
    expect(rows.map((r) => r.slice(0, 5))).toEqual([
      ['esp32-wifi-sensor', '120', '0.91 y', '1.10 y', '1.26 y'],
      ['nrf9160-ltem-tracker', '80', '3.90 y', '4.67 y', '5.30 y'],
    ]);
    const basis = await page.$$eval('#battery-lifetimes .basis li', (lis) => lis.map((li) => [li.getAttribute('data-method'), li.textContent]));
    expect(basis[0][0]).toBe('per-device');
    expect(basis[0][1]).toMatch(/from 4m simulated, steady state after 6s/);
    expect(basis[1]).toEqual(['refused', expect.stringMatching(/not projected/)]);
  });

  it('leads with what the scenario asks: OTA outcome, battery lifetime, then peak online', async () => {
    const tiles = await page.$$eval('.tiles .tile', (ts) => ts.map((t) => `${t.querySelector('.v')?.textContent} | ${t.querySelector('.l')?.textContent}`));
    const o = run.summary.fleet!.ota!;
    expect(tiles[0]).toBe(`${o.succeeded.toLocaleString('en-US')} | updates committed`);
    expect(tiles[1]).toBe(`${o.failed} / ${o.rolledBack} | failed / rolled back`);
    expect(tiles[2]).toMatch(/ \| time to 95% of compatible devices/);
    expect(tiles[3]).toMatch(/^aborted at step 1 \| campaign app-2.1-beta/);
    expect(tiles[4]).toBe('1.10 y | battery lifetime p50 · esp32-wifi-sensor');
    expect(tiles[5]).toBe('0.91 y | battery lifetime p5 (weakest 5%) · esp32-wifi-sensor');
    expect(tiles.find((t) => t.includes('peak online'))).toMatch(/^300 \| peak online of 300 · \d+ just before the end$/);
  });

  it('carries the scenario as written, escaped and folded, and the host it ran on', async () => {
    expect(await page.$eval('#scenario details', (d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await page.$eval('#scenario pre', (p) => p.textContent)).toBe(run.summary.run.scenarioText);
    const facts = await page.$$eval('.facts div', (ds) => Object.fromEntries(ds.map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent])));
    expect(facts.host).toBe('2 cores · 8.6 GB · load 0.42 → 1.90 · node v20.18.0 · linux x64');
  });

  it('shows the accounting identity and the verdict', async () => {
    const eq = await page.$eval('#accounting .equation', (e) => e.textContent);
    expect(eq).toContain(run.summary.accounting.generated.toLocaleString('en-US'));
    expect(await page.$eval('[data-verdict]', (b) => b.getAttribute('data-verdict'))).toBe(run.summary.result.verdict);
  });

  it('saves a full-page screenshot to test-output/report.png', async () => {
    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/report.png', fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: 'test-output/report-dark.png', fullPage: false });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: 'test-output/report-narrow.png', fullPage: false });
    expect((await readFile('test-output/report.png')).length).toBeGreaterThan(10_000);
  });
});
