import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadScenario } from '../../src/scenario/load.js';
import { scenarioHash } from '../../src/engine/results/summary-builder.js';

// `compare` says "the runs used different scenarios" when the hashes differ: a baseline from one CI
// workspace and a run from another must hash alike when their scenario and protocol are the same.
const repo = path.resolve(import.meta.dirname, '../..');
const scenarioText = readFileSync(path.join(repo, 'scenarios/custom-protocol.yaml'), 'utf8');
const protocolText = readFileSync(path.join(repo, 'protocols/example.yaml'), 'utf8').replace(
  '    x-acme-client: fleetsim\n',
  '    x-acme-client: fleetsim\n    x-api-key: "${env:FLEETSIM_TEST_HASH_SECRET}"\n',
);

const made: string[] = [];
/** A checkout: scenarios/custom-protocol.yaml and protocols/example.yaml under a directory of its own. */
function checkout(protocol = protocolText): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fleetsim-hash-'));
  made.push(root);
  mkdirSync(path.join(root, 'scenarios'));
  mkdirSync(path.join(root, 'protocols'));
  writeFileSync(path.join(root, 'scenarios/custom-protocol.yaml'), scenarioText);
  writeFileSync(path.join(root, 'protocols/example.yaml'), protocol);
  return path.join(root, 'scenarios/custom-protocol.yaml');
}
function hashWith(file: string, secret: string): string {
  process.env.FLEETSIM_TEST_HASH_SECRET = secret;
  try {
    return scenarioHash(loadScenario(file));
  } finally {
    delete process.env.FLEETSIM_TEST_HASH_SECRET;
  }
}

afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('scenario hash (the identity compare and merge check)', () => {
  it('is the same for one scenario and protocol file in two directories, and whatever the secret values', () => {
    expect(protocolText).toContain('FLEETSIM_TEST_HASH_SECRET');
    const a = hashWith(checkout(), 'token-of-ci-a');
    expect(hashWith(checkout(), 'token-of-ci-a')).toBe(a);
    expect(hashWith(checkout(), 'token-of-ci-b')).toBe(a);
    // What the file says counts, not how: a comment changes nothing.
    expect(hashWith(checkout(protocolText.replace('# "acme-things"', '# "acme things"')), 'token-of-ci-a')).toBe(a);
  });

  it('differs when the protocol file says something else, or the scenario points at another file', () => {
    const a = hashWith(checkout(), 's');
    expect(hashWith(checkout(protocolText.replace('name: acme-things', 'name: acme-things-2')), 's')).not.toBe(a);
    const elsewhere = checkout();
    writeFileSync(path.join(path.dirname(elsewhere), '../protocols/other.yaml'), protocolText);
    writeFileSync(elsewhere, scenarioText.replace('../protocols/example.yaml', '../protocols/other.yaml'));
    expect(hashWith(elsewhere, 's')).not.toBe(a);
  });
});
