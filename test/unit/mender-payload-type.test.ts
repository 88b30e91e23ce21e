import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { menderPreset } from '../../src/drivers/presets/mender.js';
import { buildMenderArtifact, inspectMenderArtifact } from '../../src/wire/mender-artifact.js';
import { requireMender } from '../helpers/mender-client.js';

/**
 * What a Mender device installs is said by the artifact's header (its payload type), not by
 * deployments/next: a rootfs-image reboots the device, an update module the client ships does not
 * (mender 3.4.0 installer/modules.go NeedsReboot; support/modules/*). The preset's artifact check
 * reads the type as the bytes stream in and tells the device.
 */
const preset = menderPreset({ fleetKey: 't' });
function targetOf(artifact: Buffer): { ok: boolean; target?: 'app' | 'os' } {
  const c = preset.artifactCheck!();
  for (let i = 0; i < artifact.length; i += 4096) c.push(artifact.subarray(i, i + 4096));
  return c.finish();
}

describe('Mender payload type decides the reboot', () => {
  it('rootfs-image installs as an OS image, every shipped update module as an application', () => {
    const files = [{ name: 'f', data: Buffer.alloc(5000, 3) }];
    expect(targetOf(buildMenderArtifact({ name: 'os-2', deviceTypes: ['d'], payloadType: 'rootfs-image', files }))).toEqual({ ok: true, target: 'os' });
    for (const type of ['single-file', 'directory', 'docker', 'deb', 'rpm', 'script']) {
      expect(targetOf(buildMenderArtifact({ name: 'app-2', deviceTypes: ['d'], payloadType: type, files })), type).toEqual({ ok: true, target: 'app' });
    }
    // A corrupt artifact says nothing: the device fails it whatever its header claims.
    const art = buildMenderArtifact({ name: 'os-2', deviceTypes: ['d'], payloadType: 'rootfs-image', files });
    const bad = Buffer.from(art);
    bad[art.lastIndexOf(Buffer.alloc(16, 3))] ^= 1;
    expect(targetOf(bad)).toEqual({ ok: false });
    // deployments/next does not say: the offer is provisional until the artifact is read.
    const answer = JSON.stringify({ id: 'dep-1', artifact: { artifact_name: 'os-2', source: { uri: 'http://x/a' }, device_types_compatible: ['d'] } });
    expect(preset.decodePoll(answer)!.update!.target).toBe('app');
  });
});

describe.runIf(requireMender())('Mender payload type, artifacts written by Debian mender-artifact', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-mender-type-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tool = (...args: string[]) => spawnSync('mender-artifact', args, { encoding: 'utf8' });

  it('its rootfs-image reboots, its module-image does not; it reads fleetsim-built rootfs-images as rootfs-image', () => {
    const file = path.join(dir, 'rootfs.ext4');
    writeFileSync(file, Buffer.alloc(20_000, 9));
    const os = path.join(dir, 'os.mender');
    const app = path.join(dir, 'app.mender');
    expect(tool('write', 'rootfs-image', '-f', file, '-n', 'os-2', '-t', 'box', '-o', os).status).toBe(0);
    expect(tool('write', 'module-image', '-T', 'single-file', '-f', file, '-n', 'app-2', '-t', 'box', '-o', app).status).toBe(0);
    expect(targetOf(readFileSync(os))).toEqual({ ok: true, target: 'os' });
    expect(targetOf(readFileSync(app))).toEqual({ ok: true, target: 'app' });
    expect(inspectMenderArtifact(readFileSync(os))).toMatchObject({ ok: true, payloadTypes: ['rootfs-image'] });

    const ours = path.join(dir, 'ours.mender');
    writeFileSync(ours, buildMenderArtifact({ name: 'os-3', deviceTypes: ['box'], payloadType: 'rootfs-image', files: [{ name: 'rootfs.ext4', data: Buffer.alloc(20_000, 9) }] }));
    const read = tool('read', ours);
    expect(read.status, read.stderr).toBe(0);
    expect(read.stdout).toMatch(/Type:\s+rootfs-image/);
    expect(read.stdout).toMatch(/rootfs-image\.version: os-3/);
  });
});
