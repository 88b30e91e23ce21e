import { describe, expect, it } from 'vitest';
import { buildMenderArtifact, inspectMenderArtifact, MenderArtifactCheck } from '../../src/wire/mender-artifact.js';

const files = [
  { name: 'run.sh', data: Buffer.from('#!/bin/sh\necho installed\n') },
  { name: 'blob.bin', data: Buffer.alloc(3000, 7) },
];

describe('Mender artifact (format 3)', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`reads back what it writes (${compression}), whole or in 7-byte pieces`, () => {
      const art = buildMenderArtifact({ name: 'app-2.0', deviceTypes: ['rpi4', 'qemux86-64'], files, compression });
      expect(inspectMenderArtifact(art)).toEqual({ ok: true, name: 'app-2.0', deviceTypes: ['rpi4', 'qemux86-64'], payloadTypes: ['script'] });
      const c = new MenderArtifactCheck();
      for (let i = 0; i < art.length; i += 7) c.push(art.subarray(i, i + 7));
      expect(c.finish().ok).toBe(true);
      expect(c.bytes).toBe(art.length);
    });
  }

  it('refuses a payload byte flipped in transit (checksum mismatch), a cut artifact and garbage', () => {
    const art = buildMenderArtifact({ name: 'a', deviceTypes: ['d'], files });
    const i = art.lastIndexOf(Buffer.alloc(16, 7));
    const bad = Buffer.from(art);
    bad[i] ^= 1;
    expect(inspectMenderArtifact(bad)).toEqual({ ok: false, error: 'checksum mismatch for data/0000/blob.bin' });
    expect(inspectMenderArtifact(art.subarray(0, 1500)).ok).toBe(false);
    expect(inspectMenderArtifact(Buffer.from('not a tar at all'.repeat(40))).ok).toBe(false);
  });
});
