import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The benches are run by hand (bench/RESULTS.md names each command), never by the suite, so a
 * script that no longer parses would only be found by the next person who runs it. `node --check`
 * parses each one without running it.
 */
const ROOT = path.join(import.meta.dirname, '../..');
const scripts = ['bench', 'bench/lib', 'scripts'].flatMap((dir) =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => path.join(dir, f)),
);

describe('bench and build scripts', () => {
  it('finds them (the list is not empty)', () => {
    expect(scripts).toContain(path.join('bench', 'virtual.mjs'));
    expect(scripts).toContain(path.join('scripts', 'bundle-cli.mjs'));
  });

  it('every one parses', () => {
    const broken = scripts.filter((f) => {
      try {
        execFileSync(process.execPath, ['--check', path.join(ROOT, f)], { stdio: 'pipe' });
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual([]);
  });
});
