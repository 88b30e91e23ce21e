import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMenderFake, type MenderFake } from '../../src/backend/fakes/mender/index.js';
import { inspectMenderArtifact } from '../../src/wire/mender-artifact.js';
import { requireMender } from '../helpers/mender-client.js';
import { waitFor as waitForCondition } from '../helpers/wait-for.js';

/**
 * Mender's own device client (Debian mender-client 3.4) against fleetsim's Mender fake: it
 * authenticates with its own RSA key, is admitted, sends inventory, polls, downloads an artifact
 * built by Debian's mender-artifact, installs it with the `script` update module (no A/B
 * partitions needed in a container) and reports success.
 */
describe.runIf(requireMender())('mender-client 3.4 against the Mender fake', () => {
  let fake: MenderFake;
  let dir: string;
  let client: ChildProcess | undefined;
  let output = '';
  /** waitFor, with the client's last log lines in the failure. */
  const waitFor = (cond: () => boolean, what: string, timeoutMs: number, everyMs: number): Promise<void> =>
    waitForCondition(cond, what, timeoutMs, everyMs).catch((e: Error) => {
      throw new Error(`${e.message}\n--- mender-client log (tail) ---\n${output.split('\n').slice(-40).join('\n')}`);
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-mender-'));
    fake = await startMenderFake({ autoAccept: false });
  });

  afterAll(async () => {
    if (client && client.exitCode === null) {
      client.kill('SIGTERM');
      await new Promise((r) => client!.once('exit', r));
    }
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates once accepted, polls, downloads, installs and reports success', async () => {
    const marker = path.join(dir, 'installed');
    const script = path.join(dir, 'install.sh');
    writeFileSync(script, `#!/bin/sh\necho fleetsim > ${marker}\n`, { mode: 0o755 });
    const artifactFile = path.join(dir, 'app-2.0.mender');
    const built = spawnSync('mender-artifact', ['write', 'module-image', '-T', 'script', '-n', 'app-2.0', '-t', 'fleetsim-box', '-f', script, '-o', artifactFile], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const bytes = readFileSync(artifactFile);
    expect(inspectMenderArtifact(bytes)).toMatchObject({ ok: true, name: 'app-2.0', deviceTypes: ['fleetsim-box'] });
    // The fake reads the payload type from the header, as the platform does on upload.
    expect(fake.upload(bytes).payloadTypes).toEqual(['script']);

    const data = path.join(dir, 'data');
    spawnSync('mkdir', ['-p', data]);
    writeFileSync(path.join(data, 'device_type'), 'device_type=fleetsim-box\n');
    const conf = path.join(dir, 'mender.conf');
    writeFileSync(conf, JSON.stringify({
      ServerURL: fake.url,
      UpdatePollIntervalSeconds: 1,
      InventoryPollIntervalSeconds: 1,
      RetryPollIntervalSeconds: 1,
      DeviceTypeFile: path.join(data, 'device_type'),
    }));
    client = spawn('mender', ['--config', conf, '--fallback-config', path.join(dir, 'none.conf'), '--data', data, '--no-syslog', '--log-level', 'debug', 'daemon'], {
      env: { ...process.env, FLEETSIM_MENDER_MAC: '02:00:00:00:aa:01' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    client.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    client.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    // Pending: the client keeps asking and gets 401 until an operator accepts it.
    await waitFor(() => fake.devices().some((d) => d.counts.pendingAnswers >= 2), 'auth requests while pending', 20_000, 50);
    const device = fake.devices()[0];
    expect(device.status).toBe('pending');
    expect(JSON.parse(device.idData)).toEqual({ mac: '02:00:00:00:aa:01' });
    fake.accept(device.id);

    await waitFor(() => device.counts.tokens >= 1 && device.counts.polls >= 1, 'a token and a poll', 30_000, 50);
    const dep = fake.deploy('interop', 'app-2.0', [device.id]);
    await waitFor(() => fake.deploymentStats(dep.id).success === 1, 'the deployment to succeed', 60_000, 100);

    expect(readFileSync(marker, 'utf8').trim()).toBe('fleetsim');
    expect(device.counts.statusReports.downloading).toBeGreaterThanOrEqual(1);
    expect(device.counts.statusReports.installing).toBeGreaterThanOrEqual(1);
    // A `script` module needs no reboot (no NeedsArtifactReboot answer): the client never reports
    // rebooting, as fleetsim's devices do not for an update module (docs/presets/mender.md).
    expect(device.counts.statusReports.rebooting).toBeUndefined();
    expect(device.counts.artifactBytes).toBe(bytes.length);
    expect(device.counts.badRequests).toBe(0);
    expect(device.inventory.get('device_type')).toBe('fleetsim-box');
    expect(existsSync(marker)).toBe(true);
  }, 120_000);
});
