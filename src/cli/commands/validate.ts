import path from 'node:path';
import type { Command } from 'commander';
import { FleetsimError, type Problem } from '../../errors/fleetsim-error.js';
import { formatDuration } from '../../metrics/format.js';
import { loadScenario } from '../../scenario/load.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import { COMMAND_LISTING } from './listing.js';

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** One line per valid scenario: what it would run. */
export function describeScenario(file: string, s: ResolvedScenario): string {
  const t = s.target;
  const preset = t.kind === 'embedded' || t.preset.kind === 'builtin' ? '' : `, ${t.preset.kind === 'protocol' ? `protocol ${t.preset.protocol.name}` : `module preset ${path.basename(t.preset.file)}`}`;
  const target = t.kind === 'embedded' ? 'embedded target' : t.kind === 'test-backend' ? `${t.backend} test backend${preset}` : `target ${t.http} + ${t.mqtt}${preset}`;
  const phases = s.phases.length > 0 ? `, ${plural(s.phases.length, 'phase')}` : '';
  return `${file}: ok (${plural(s.devices, 'device')} in ${plural(s.fleet.length, 'group')}, ${formatDuration(s.durationMs)}, ${s.clock} clock, ${target}${phases}, ${plural(s.thresholds.length, 'threshold')})`;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description(COMMAND_LISTING.validate.summary)
    .argument('<scenario...>', 'scenario YAML files')
    .action((files: string[]) => {
      const failures: FleetsimError[] = [];
      for (const file of files) {
        try {
          process.stdout.write(describeScenario(file, loadScenario(file)) + '\n');
        } catch (err) {
          if (!(err instanceof FleetsimError)) throw err;
          failures.push(err);
        }
      }
      if (failures.length === 0) return;
      if (failures.length === 1) throw failures[0];
      // Several bad files: one error listing each file's problems (a file-level error becomes a problem).
      const problems: Problem[] = failures.flatMap((e) => (e.problems.length > 0 ? [...e.problems] : [{ message: `${e.code}: ${e.message}`, hint: e.hint }]));
      throw new FleetsimError('FLEETSIM_E_SCENARIO_INVALID', `${failures.length} of ${files.length} scenarios are invalid`, { problems });
    });
}
