import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';

/**
 * Pre-flight: `fleetsim run` refuses a run that cannot fit this machine before starting anything
 * (exit 2, the reason and the fix, no stack trace), and `fleetsim plan` shows the same budget.
 * The CLI runs under a lowered descriptor limit (`ulimit -n 1024`, which any user may set), so
 * the verdict does not depend on the machine's own limit.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cliUnderLimit(args: string[], limit: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const tooBig = path.join(dir, 'too-big.yaml');
writeFileSync(
  tooBig,
  ['name: too-big', 'duration: 1m', 'target: embedded', 'fleet: [{ profile: esp32-wifi-sensor, count: 2000, link: wifi }]', 'arrival: { rate: 100/s }', 'behaviour: { telemetry: { every: 10s } }'].join('\n'),
);

describe('pre-flight', () => {
  it('refuses a run too big for the descriptor limit with exit 2 and the fix, before starting anything', async () => {
    const r = await cliUnderLimit(['run', tooBig, '-o', dir, '-q'], 1024);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_RESOURCE_LIMIT');
    expect(r.stderr).toContain('descriptors but this process may open 1024');
    expect(r.stderr).toContain('local-mosquitto');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toContain('embedded backend: http'); // nothing was started
  }, 30_000);

  it('plan shows the same refusal and the budget', async () => {
    const r = await cliUnderLimit(['plan', tooBig], 1024);
    // The budget on stdout, and the refusal `run` would give (exit 2).
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_RESOURCE_LIMIT');
    expect(r.stdout).toMatch(/processes +\d+ shard processes/);
    expect(r.stdout).toContain('warning: the coordinator needs');
    expect(r.stdout).toContain('fix: use local Mosquitto brokers');
  }, 30_000);
});
