import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * The deployment examples in deploy/ are documentation people copy: they must parse, keep the
 * fields the sharded flow depends on, and carry a scenario fleetsim accepts.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

// Parsed YAML of known files: loosely typed on purpose, the assertions check the shape.
type Doc = Record<string, any>;

function docs(file: string): Doc[] {
  const all = parseAllDocuments(read(file));
  for (const d of all) expect(d.errors, `${file}: ${d.errors.map((e) => e.message).join('; ')}`).toEqual([]);
  return all.map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

describe('deploy/kubernetes', () => {
  const shards = docs('deploy/kubernetes/fleetsim-job.yaml');
  const byKind = (kind: string) => shards.filter((d) => d.kind === kind);
  const [job] = byKind('Job');
  const [merge] = docs('deploy/kubernetes/fleetsim-merge-job.yaml');

  test('the shard Job is an Indexed Job that runs every index at once and never retries one', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBeGreaterThan(1);
    expect(job.spec.parallelism).toBe(job.spec.completions);
    expect(job.spec.backoffLimitPerIndex).toBe(0);
    expect(job.spec.maxFailedIndexes).toBe(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const rule = job.spec.podFailurePolicy.rules[0];
    expect([rule.action, rule.onExitCodes.containerName, rule.onExitCodes.values]).toEqual(['FailJob', 'fleetsim', [2]]);
  });

  test('the shard container runs `fleetsim run` on the ConfigMap scenario into the shared volume, with no --shard flag', () => {
    const c = job.spec.template.spec.containers[0];
    const script = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
    expect(script).toMatch(/fleetsim run \/scenarios\/scenario\.yaml --out "\/results\/\$JOB_NAME"/);
    expect(script).not.toContain('--shard');
    expect(c.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'results', mountPath: '/results' }), expect.objectContaining({ name: 'scenario', mountPath: '/scenarios' })]));
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.requests.memory).toBeDefined();
    const volumes = job.spec.template.spec.volumes;
    expect(volumes).toEqual(expect.arrayContaining([{ name: 'results', persistentVolumeClaim: { claimName: 'fleetsim-results' } }, { name: 'scenario', configMap: { name: 'fleetsim-scenario' } }]));
  });

  test('results live on a ReadWriteMany claim that both Jobs mount', () => {
    const [pvc] = byKind('PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe('fleetsim-results');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(merge.spec.template.spec.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'fleetsim-results' } }]);
  });

  test('the merge Job merges every shard directory of the shard Job', () => {
    expect(merge.kind).toBe('Job');
    const c = merge.spec.template.spec.containers[0];
    expect([...(c.command ?? []), ...(c.args ?? [])].join(' ')).toMatch(/fleetsim merge \/results\/"\$SHARDS_JOB"\/\*-shard\*of\*/);
    expect(c.env).toContainEqual({ name: 'SHARDS_JOB', value: job.metadata.name });
    expect(c.image).toBe(job.spec.template.spec.containers[0].image);
  });

  test('the ConfigMap scenario is a valid fleetsim scenario with an external target', () => {
    const [cm] = byKind('ConfigMap');
    const s = parseScenarioText(cm.data['scenario.yaml'], 'fleetsim-job.yaml#scenario.yaml');
    expect(s.target.kind).toBe('external');
    expect(s.devices).toBeGreaterThanOrEqual(job.spec.completions);
  });
});

describe('deploy/github-actions/fleetsim-sharded.yml', () => {
  const wf = parse(read('deploy/github-actions/fleetsim-sharded.yml')) as Doc;
  const run = (job: Doc) => (job.steps as Doc[]).map((s) => s.run ?? '').join('\n');

  test('a matrix job runs one shard per index and uploads its report even when it fails', () => {
    const shard = wf.jobs.shard;
    expect(shard.strategy['fail-fast']).toBe(false);
    expect(shard.strategy.matrix.shard).toBe('${{ fromJSON(needs.plan.outputs.indexes) }}');
    expect(run(shard)).toContain('run "$SCENARIO" --shard ${{ matrix.shard }}/$SHARDS');
    const upload = (shard.steps as Doc[]).find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload?.if).toBe('always()');
    expect(upload?.with.name).toBe('fleetsim-shard-${{ matrix.shard }}');
  });

  test('the merge job downloads every shard, merges, uploads the merged report and publishes junit.xml', () => {
    const merge = wf.jobs.merge;
    expect(merge.needs).toBe('shard');
    expect(merge.if).toContain('always()');
    const uses = (merge.steps as Doc[]).map((s) => String(s.uses ?? ''));
    const download = (merge.steps as Doc[]).find((s) => String(s.uses).startsWith('actions/download-artifact@'));
    expect(download?.with.pattern).toBe('fleetsim-shard-*');
    expect(run(merge)).toContain('node dist/cli/main.js merge shards/*/*-shard*of* --out merged');
    expect(uses.some((u) => u.startsWith('actions/upload-artifact@'))).toBe(true);
    const junit = (merge.steps as Doc[]).find((s) => String(s.uses).startsWith('mikepenz/action-junit-report@'));
    expect(junit?.with.report_paths).toBe('merged/*/junit.xml');
    expect(wf.permissions.checks).toBe('write');
  });
});

test('deploy/Dockerfile builds on node:20-slim with production dependencies only in the image', () => {
  const text = read('deploy/Dockerfile');
  expect(text).toMatch(/^FROM node:20-slim AS build$/m);
  expect(text).toMatch(/^RUN npm ci --omit=dev/m);
  expect(text).toMatch(/^RUN npm run build$/m);
  expect(text).toMatch(/ln -s \/app\/dist\/cli\/main\.js \/usr\/local\/bin\/fleetsim/);
});

test("deploy/Dockerfile's build stage has every folder `npm run build` reads, and its image the profiles a run reads", () => {
  const text = read('deploy/Dockerfile');
  const [build, runtime] = text.split(/^FROM node:20-slim$/m);
  const copied = (stage: string) => [...stage.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]);
  const pkg = JSON.parse(read('package.json')) as { scripts: { build: string } };
  // The folders the build script names (tsconfig paths and scripts/*.mjs), each copied before `npm run build`.
  const needed = new Set([...pkg.scripts.build.matchAll(/(?:^|\s)(src|scripts)\//g)].map((m) => m[1]));
  expect([...needed].sort()).toEqual(['scripts', 'src']);
  for (const dir of needed) expect(copied(build), dir).toContain(dir);
  // profiles/ is read at run time (scenario/profile-load.ts), like scenarios/ and schema/.
  for (const dir of ['profiles', 'scenarios', 'schema']) expect(copied(runtime), dir).toContain(dir);
});
