import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderScenarioJsonSchema } from '../../src/scenario/schema.js';
import { CLI, runCli } from '../helpers/cli.js';

/** The CLI as users run it: the compiled `dist/cli/main.js` (`npm test` builds first), from the repository root. */
const fleetsim = (...args: string[]) => runCli(args);

describe('fleetsim validate / plan / schema', () => {
  let tmp: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-cli-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('validate a good scenario: one ok line, exit 0', async () => {
    const r = await fleetsim('validate', 'scenarios/quickstart.yaml');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('scenarios/quickstart.yaml: ok (100 devices in 2 groups, 1m00s, wall clock, embedded target, 4 thresholds)\n');
    expect(r.code).toBe(0);
  });

  test('validate a bad scenario: exit 2, every problem at file:line:col, no stack trace', async () => {
    const file = 'test/fixtures/scenarios/invalid/multiple-errors.yaml';
    const r = await fleetsim('validate', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error FLEETSIM_E_SCENARIO_INVALID:');
    for (const where of ['2:11: duration', '4:16: fleet[0].profile', '5:42: fleet[1].count', '8:33: behaviour.telemetry.qos', '9:3: behaviour.pol', '12:3: thresholds["telemetry.lst"]']) {
      expect(r.stderr).toContain(`${file}:${where}`);
    }
    expect(r.stderr).toContain('hint: did you mean "poll"?');
    expect(r.stderr).not.toContain('    at ');
  });

  test('validate several files: good ones print ok, the bad ones fail the command together', async () => {
    const r = await fleetsim('validate', 'scenarios/smoke.yaml', 'test/fixtures/scenarios/invalid/qos-2.yaml', 'test/fixtures/scenarios/invalid/no-such.yaml');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('scenarios/smoke.yaml: ok');
    expect(r.stderr).toContain('2 of 3 scenarios are invalid');
    expect(r.stderr).toContain('qos-2.yaml:7:32: behaviour.telemetry.qos');
    expect(r.stderr).toContain('FLEETSIM_E_FILE_NOT_FOUND: scenario file test/fixtures/scenarios/invalid/no-such.yaml does not exist');
    expect(r.stderr).not.toContain('    at ');
  });

  test('a YAML syntax error is FLEETSIM_E_YAML_SYNTAX, exit 2', async () => {
    const r = await fleetsim('validate', 'test/fixtures/scenarios/invalid/yaml-syntax.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error FLEETSIM_E_YAML_SYNTAX');
    expect(r.stderr).toContain('yaml-syntax.yaml:5:1: YAML syntax:');
  });

  test('run and plan refuse backend: on the wall clock: located, exit 2, hint --clock virtual, nothing run', async () => {
    for (const cmd of ['run', 'plan']) {
      const r = await fleetsim(cmd, 'scenarios/backend-sizing.yaml', '--clock', 'wall', ...(cmd === 'run' ? ['--out', tmp, '--quiet'] : []));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('error FLEETSIM_E_SCENARIO_INVALID');
      expect(r.stderr).toMatch(/scenarios\/backend-sizing\.yaml:\d+:1: backend: backend: sizes the modelled backend of the virtual clock; this run is on the wall clock \(--clock wall\)/);
      expect(r.stderr).toContain('hint: run with --clock virtual');
      expect(r.stderr).not.toContain('    at ');
      expect(r.stdout).toBe('');
    }
  });

  test('plan prints shards, rates and resources; --json prints the plan object', async () => {
    const r = await fleetsim('plan', 'scenarios/quickstart.yaml', '--workers', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shard 0: devices 0..49 (50) 40 rpi4-gateway/ethernet, 10 esp32-wifi-sensor/wifi');
    expect(r.stdout).toContain('telemetry                20/s');
    const json = await fleetsim('plan', 'scenarios/quickstart.yaml', '--workers', '2', '--json');
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.shards).toHaveLength(2);
    expect(plan.rates.telemetryPerSec).toBe(20);
  });

  test('plan with a bad flag is a usage error', async () => {
    const r = await fleetsim('plan', 'scenarios/quickstart.yaml', '--workers', 'zero');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_USAGE');
  });

  test('schema prints the JSON Schema; --out writes the same text', async () => {
    const r = await fleetsim('schema');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderScenarioJsonSchema());
    const out = path.join(tmp, 'scenario.schema.json');
    expect((await fleetsim('schema', '--out', out)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
  });
});
