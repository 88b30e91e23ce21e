import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { FLEET_PATHS } from '../../src/wire/fleet-ops.js';
import { chromiumMissingReason, launchChromium } from '../helpers/chromium.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/**
 * A backend that answers with hostile text, and what fleetsim makes of it in every output. The
 * real embedded backend sits behind a tampering proxy that plants script tags, terminal escapes,
 * NUL, bidi overrides and a 1 MB line in: an operator call's error body (a campaign refused with
 * 500), a campaign's status (release, state, abort reason), a command's id, and the configuration
 * devices receive with their target state. Then report.html must parse in Chromium with no script
 * of the backend's running, junit.xml must be valid XML (xmllint), and the console must carry no
 * raw escape and no line past its cap.
 */

const KEY = 'hostile-key';
const ESC = '\x1b';
const MARK = 'PWNED';
const HOSTILE = `<script>alert("${MARK}")</script><img src=x onerror=alert(1)>${ESC}[2J${ESC}]0;title\x07${ESC}[31mred\x00nul\u202Eevil\u202C]]></failure>`;
const MEGA_LINE = `${HOSTILE}${'A'.repeat(1 << 20)}`;

const missingChromium = chromiumMissingReason();
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!hasXmllint && process.env.CI) throw new Error('xmllint is required under CI');

let backend: EmbeddedBackend;
let proxy: http.Server;
let proxyUrl = '';
let dir = '';
let cli: CliResult;
let reportDir = '';
const tampered = { campaignPosts: 0, campaignReads: 0, commandPosts: 0, targets: 0 };

async function forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const headers: Record<string, string> = {};
  for (const h of ['authorization', 'content-type', 'if-none-match']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
  const res = await fetch(backend.httpUrl + req.url, { method: req.method, headers, body: body.length > 0 ? body : undefined });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k === 'etag' || k === 'retry-after' || k === 'content-type') out[k] = v;
  });
  return { status: res.status, headers: out, text: await res.text() };
}

/** What the proxy does to each answer: plant hostile strings where the backend's words reach fleetsim. */
async function tamper(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const url = req.url ?? '';
  if (req.method === 'POST' && url === FLEET_PATHS.campaigns && ++tampered.campaignPosts === 2) {
    return { status: 500, headers: { 'content-type': 'text/plain' }, text: MEGA_LINE };
  }
  const r = await forward(req, body);
  if (r.status !== 200 && r.status !== 201 && r.status !== 202) return r;
  if (req.method === 'GET' && url.startsWith(FLEET_PATHS.campaigns + '/')) {
    tampered.campaignReads++;
    return { ...r, text: JSON.stringify({ ...JSON.parse(r.text), release: HOSTILE, state: HOSTILE, reason: MEGA_LINE }) };
  }
  if (req.method === 'POST' && url === FLEET_PATHS.commands) {
    tampered.commandPosts++;
    return { ...r, text: JSON.stringify({ ...JSON.parse(r.text), id: HOSTILE }) };
  }
  if (req.method === 'GET' && /^\/v1\/devices\/[^/]+\/target$/.test(url)) {
    tampered.targets++;
    const t = JSON.parse(r.text);
    return { ...r, text: JSON.stringify({ ...t, config: { ...t.config, motd: HOSTILE, banner: MEGA_LINE.slice(0, 64 * 1024) } }) };
  }
  return r;
}

beforeAll(async () => {
  backend = await startEmbeddedBackend({ fleetKey: KEY });
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tamper(req, Buffer.concat(chunks)).then(
        (a) => {
          res.writeHead(a.status, a.headers);
          res.end(a.text);
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-hostile-'));
  const scenario = path.join(dir, 'hostile.yaml');
  writeFileSync(
    scenario,
    `
name: hostile
seed: 5
duration: 6s
target: { http: "${proxyUrl}", mqtt: "${backend.mqttUrl}", fleetKey: ${KEY} }
fleet:
  - { profile: rpi4-gateway, count: 12, link: ethernet }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 1s, size: 64B, qos: 1 }
  poll: { every: 1s }
phases:
  - at: 1s
    update: { release: app-1.1, size: 8KB, rollout: { strategy: all } }
  - at: 2s
    update: { release: app-1.2, size: 8KB, rollout: { strategy: all } }
  - at: 3s
    command: { name: diagnostics }
`,
  );
  cli = await runCli(['run', scenario, '-q', '-o', path.join(dir, 'out'), '--workers', '1']);
  const name = readdirSync(path.join(dir, 'out'))[0];
  reportDir = path.join(dir, 'out', name);
}, 90_000);

afterAll(async () => {
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  proxy?.closeAllConnections();
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hostile strings from a backend', () => {
  it('reached fleetsim: every tampered answer was served, and the run still ended with a report', () => {
    expect(tampered.campaignPosts).toBe(2);
    expect(tampered.campaignReads).toBeGreaterThanOrEqual(1);
    expect(tampered.commandPosts).toBe(1);
    expect(tampered.targets).toBeGreaterThan(0);
    // A backend answering garbage is measured, never fatal: a verdict, not a crash.
    expect(cli.stderr).not.toMatch(/FLEETSIM_E_INTERNAL/);
    expect([0, 1, 99]).toContain(cli.code);
  });

  it('summary.json keeps the backend texts, cleaned and cut', () => {
    const summary = JSON.parse(readFileSync(path.join(reportDir, 'summary.json'), 'utf8'));
    const campaign = summary.fleet.ota.campaigns[0];
    expect(campaign.release).toContain('<script>alert');
    expect(campaign.reason.length).toBeLessThan(1_000);
    expect(campaign.reason).toMatch(/… \[[\d,]+ more characters cut\]$/);
    // The refused campaign is reported as the backend's doing (a warning), cut at 200 characters.
    const warning = (summary.run.warnings as string[]).find((w) => w.startsWith('operator campaign at 2000 ms failed'))!;
    expect(warning).toMatch(/^operator campaign at 2000 ms failed: POST \/v1\/campaigns: HTTP 500 <script>alert/);
    expect(warning).toMatch(/… \[[\d,]+ more characters cut\]$/);
    expect(warning.length).toBeLessThan(400);
    const text = JSON.stringify(summary);
    expect(text).not.toMatch(/\\u001b|\\u0000|\\u202e/i);
  });

  it('the console shows them with no raw escape, NUL or bidi override, and no line past its cap', () => {
    const all = cli.stdout + cli.stderr;
    expect(all).toContain('<script>alert'); // shown, as text
    expect(all).not.toContain(ESC);
    expect(all).not.toContain('\x00');
    expect(all).not.toContain('\u202E');
    for (const line of all.split('\n')) expect(line.length).toBeLessThan(2_100);
  });

  it.runIf(hasXmllint)('junit.xml is valid XML that quotes them', () => {
    const file = path.join(reportDir, 'junit.xml');
    const lint = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
    expect(lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain('&lt;script&gt;alert(');
    expect(xml).not.toContain(ESC);
  });

  it.runIf(!missingChromium)('report.html parses in Chromium with the texts inert: no dialog, no extra script, the text visible', async () => {
    const html = readFileSync(path.join(reportDir, 'report.html'), 'utf8');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain(ESC);
    expect(html).not.toContain('\x00');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(pathToFileURL(path.join(reportDir, 'report.html')).href, { waitUntil: 'load' });
      const scripts = await page.evaluate(() => [...document.querySelectorAll('script')].map((s) => s.textContent ?? '').filter((t) => t.includes('PWNED') && !t.trimStart().startsWith('{')));
      const images = await page.evaluate(() => document.querySelectorAll('img[onerror]').length);
      const text = await page.evaluate(() => document.body.innerText);
      expect(dialogs).toEqual([]);
      expect(scripts).toEqual([]);
      expect(images).toBe(0);
      expect(text).toContain(`<script>alert("${MARK}")</script>`);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
