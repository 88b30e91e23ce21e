import { resolve as resolvePath } from 'node:path';
import { FleetsimError, type Problem } from '../errors/fleetsim-error.js';
import { parseDuration } from '../models/units.js';
import { semanticProblems } from './checks.js';
import { SECRET_MISSING } from './secrets.js';
import { resolveScenario, type ScenarioOverrides } from './resolve.js';
import type { ResolvedScenario } from './resolved.js';
import { scenarioSchema } from './schema.js';
import { readInputFile, YamlSource } from './yaml-source.js';
import { problemsFromIssues } from './zod-problems.js';

export type { ScenarioOverrides } from './resolve.js';

/**
 * Reads, validates and resolves a scenario file. Synchronous: a scenario is small and nothing can
 * run before it is loaded.
 *
 * Every problem of the file is reported at once, in one `FLEETSIM_E_SCENARIO_INVALID` error
 * (exit 2), each with `file:line:col`, YAML path and hint. A file that is not well-formed YAML
 * fails with `FLEETSIM_E_YAML_SYNTAX` and its syntax problems only: checking the shape of a
 * half-parsed document would report noise. A missing file is `FLEETSIM_E_FILE_NOT_FOUND`.
 */
export function loadScenario(file: string, overrides: ScenarioOverrides = {}): ResolvedScenario {
  const text = readInputFile(file, 'scenario file', file, 'give the path of a scenario YAML file, e.g. scenarios/quickstart.yaml');
  return parseScenarioText(text, file, overrides, resolvePath(file));
}

/**
 * Validates and resolves scenario text. `fileLabel` is what messages show (the path as the user
 * typed it); `absoluteFile` is what the resolved scenario records (defaults to the label).
 */
export function parseScenarioText(text: string, fileLabel = '<inline>', overrides: ScenarioOverrides = {}, absoluteFile = fileLabel): ResolvedScenario {
  const source = new YamlSource(text, fileLabel);
  const data = source.readData('scenario');
  if (data === null || data === undefined) {
    throw new FleetsimError('FLEETSIM_E_SCENARIO_INVALID', `${fileLabel} is empty`, {
      problems: [{ location: { file: fileLabel, line: 1, col: 1 }, message: 'the file holds no scenario', hint: 'start from scenarios/quickstart.yaml' }],
    });
  }
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  const problems: Problem[] = parsed.success ? [] : problemsFromIssues(parsed.error.issues, source, scenarioSchema);
  problems.push(...semanticProblems(data, source, overrides.clock));
  if (problems.length > 0 || !parsed.success) {
    // This file's problems in file order; problems inside files it names (a profile, a protocol file) after, as they came.
    const own = (p: Problem): number => (p.location === undefined || p.location.file === fileLabel ? 0 : 1);
    problems.sort((a, b) => own(a) - own(b) || (own(a) === 0 ? byLocation(a, b) : 0));
    // Only secrets missing: say so in the code too, so scripts can tell a missing secret from a broken file.
    const onlySecrets = problems.every((p) => p.message.endsWith(`(${SECRET_MISSING})`));
    throw new FleetsimError(onlySecrets ? SECRET_MISSING : 'FLEETSIM_E_SCENARIO_INVALID', `${fileLabel} is not a valid scenario (${count(problems.length, 'problem')})`, {
      problems,
      hint: 'the JSON Schema (`fleetsim schema`) lets your editor flag most of these as you type',
    });
  }
  return resolveScenario(parsed.data, absoluteFile, checkOverrides(overrides));
}

function checkOverrides(o: ScenarioOverrides): ScenarioOverrides {
  const usage = (message: string, hint: string): never => {
    throw new FleetsimError('FLEETSIM_E_USAGE', message, { hint });
  };
  if (o.clock !== undefined && o.clock !== 'wall' && o.clock !== 'virtual') usage(`--clock "${String(o.clock)}" is not a clock`, 'use --clock wall or --clock virtual');
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1)) usage(`--workers ${o.workers} is not a whole number of at least 1`, 'use e.g. --workers 2');
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffff_ffff)) usage(`--seed ${o.seed} is not a whole number from 0 to 4294967295`, 'use e.g. --seed 42');
  if (typeof o.duration === 'string') {
    const d = parseDuration(o.duration);
    if (!d.ok) usage(`--duration ${d.message}`, d.hint);
    else if (d.value <= 0) usage(`--duration "${o.duration}" must be more than zero`, 'use e.g. --duration 30s');
  } else if (o.duration !== undefined && !(o.duration > 0)) usage(`--duration ${o.duration} ms must be more than zero`, 'use e.g. --duration 30s');
  return o;
}

function byLocation(a: Problem, b: Problem): number {
  return (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
