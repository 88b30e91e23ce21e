import { mkdtemp } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { it } from 'vitest';
import { htmlWriter } from '../src/report/html.js';
import { formatSummaryTable } from '../src/report/console.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { syntheticRun } from '../test/helpers/synthetic-run.js';

it('shots', async () => {
  const run = syntheticRun({ intervals: 90, devices: 300, full: true });
  writeFileSync('/tmp/fo-shots/console.txt', formatSummaryTable(run.summary));
  writeFileSync('/tmp/fo-shots/summary.json', JSON.stringify(run.summary));
  const dir = await mkdtemp(join(tmpdir(), 'shot-'));
  const file = process.env.SHOT_HTML ?? join(dir, htmlWriter.file);
  if (!process.env.SHOT_HTML) await htmlWriter.write(dir, run.summary, run.timeline);
  const browser = await launchChromium();
  for (const scheme of ['light', 'dark'] as const) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: scheme });
    page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
    page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
    await page.goto(pathToFileURL(file).href);
    for (const id of ['fleet-ops', 'fleet']) {
      const el = await page.$(`#${id}`);
      if (el) await el.screenshot({ path: `/tmp/fo-shots/${id}-${scheme}.png` });
    }
    await page.close();
  }
  const narrow = await browser.newPage({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 1 });
  await narrow.goto(pathToFileURL(file).href);
  const el = await narrow.$('#fleet-ops');
  if (el) await el.screenshot({ path: '/tmp/fo-shots/fleet-ops-narrow.png' });
  await browser.close();
}, 60_000);
