import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * What the CLI's bundle (scripts/bundle-cli.mjs, `npm run build`) puts where, read from the
 * metafile esbuild writes beside it. The module graph's rules (shard-imports.test.ts) must hold
 * for the bundle too, because the bundle is what `fleetsim` runs: a shard worker without
 * hdr-histogram-js (~5 MiB per shard), and no start-up load of the packages only some runs use.
 */
interface Output {
  imports: { path: string; kind: string; external?: boolean }[];
  inputs: Record<string, unknown>;
}
const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/cli/bundle-meta.json'), 'utf8')) as { outputs: Record<string, Output> };

/** Files and external packages an entry loads: statically (at start), or also through `import()`. */
function reach(entry: string, withDynamic: boolean): { inputs: Set<string>; externals: Set<string> } {
  const inputs = new Set<string>();
  const externals = new Set<string>();
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const out = meta.outputs[file];
    expect(out, file).toBeDefined();
    for (const i of Object.keys(out.inputs)) inputs.add(i);
    for (const imp of out.imports) {
      if (imp.kind !== 'import-statement' && !(withDynamic && imp.kind === 'dynamic-import')) continue;
      if (imp.external === true) externals.add(imp.path);
      else walk(imp.path);
    }
  };
  walk(entry);
  return { inputs, externals };
}

const carries = (inputs: Set<string>, pkg: string) => [...inputs].some((i) => i.startsWith(`node_modules/${pkg}/`));

describe('the CLI bundle', () => {
  it("the shard worker's bundle carries no hdr-histogram-js, and does carry the shard", () => {
    const worker = reach('dist/cli/shard-worker.js', true);
    expect(worker.inputs.has('dist/engine/shard/runtime.js')).toBe(true);
    expect(worker.inputs.has('dist/metrics/hdr-counts.js')).toBe(true);
    expect(carries(worker.inputs, 'hdr-histogram-js')).toBe(false);
    // The coordinator's side does carry it, with `run` (the check finds it where it is).
    expect(carries(reach('dist/cli/main.js', true).inputs, 'hdr-histogram-js')).toBe(true);
  });

  it('the packages only some runs use are loaded from node_modules, and only when a run asks', () => {
    const lazy = ['@peculiar/x509', 'reflect-metadata', 'aedes', 'mqtt', 'prom-client'];
    const atStart = reach('dist/cli/main.js', false);
    const all = reach('dist/cli/main.js', true);
    for (const pkg of lazy) {
      expect(carries(all.inputs, pkg), pkg).toBe(false);
      expect(atStart.externals.has(pkg), pkg).toBe(false);
      // mqtt.js is loaded through createRequire where it is used (drivers/mqtt/mqttjs-transport.ts), which a bundler does not follow.
      if (pkg !== 'mqtt') expect(all.externals.has(pkg), pkg).toBe(true);
    }
  });

  it('`fleetsim --version` loads no command: the commands and their packages are chunks, loaded when named', () => {
    const atStart = reach('dist/cli/main.js', false);
    for (const file of ['dist/cli/commands/run.js', 'dist/cli/commands/validate.js', 'dist/engine/coordinator.js', 'dist/scenario/load.js']) expect(atStart.inputs.has(file), file).toBe(false);
    for (const pkg of ['zod', 'yaml', 'hdr-histogram-js']) expect(carries(atStart.inputs, pkg), pkg).toBe(false);
    expect(carries(atStart.inputs, 'commander')).toBe(true);
    // Each command is reached through its own import().
    expect(reach('dist/cli/main.js', true).inputs.has('dist/cli/commands/run.js')).toBe(true);
  });

  it("drops zod's locales but English (what its 64 modules cost every command)", () => {
    const main = reach('dist/cli/main.js', true);
    expect(main.inputs.has('node_modules/zod/v4/locales/en.js')).toBe(true);
    const others = [...main.inputs].filter((i) => i.startsWith('node_modules/zod/v4/locales/') && !i.endsWith('/en.js') && !i.endsWith('/index.js'));
    expect(others).toEqual([]);
  });
});
