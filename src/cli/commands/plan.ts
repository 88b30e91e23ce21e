import type { Command } from 'commander';
import { availableCores, descriptorLimit } from '../../engine/resources.js';
import { loadScenario } from '../../scenario/load.js';
import { formatPlan, planRun } from '../../scenario/plan.js';
import { parseShardFlag, parseWorkersFlag } from '../flags.js';

interface PlanFlags {
  workers?: string;
  shard?: string;
  clock?: 'wall' | 'virtual';
  duration?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('show what a run would do: shards, device ranges, rates, connections and descriptors (opens nothing)')
    .argument('<scenario>', 'scenario YAML file')
    .option('-w, --workers <n>', 'worker threads (shards) in this process (default: available cores)')
    .option('--shard <i/N>', 'plan slice i of N of the fleet (also read from JOB_COMPLETION_INDEX/JOB_COMPLETIONS)')
    .option('--clock <clock>', 'wall or virtual (overrides the scenario)')
    .option('--duration <d>', 'run length, e.g. 30s (overrides the scenario)')
    .option('--json', 'print the plan as JSON')
    .action((file: string, flags: PlanFlags) => {
      const workers = flags.workers === undefined ? availableCores() : parseWorkersFlag(flags.workers);
      const shard = parseShardFlag(flags.shard, process.env);
      const scenario = loadScenario(file, { clock: flags.clock, duration: flags.duration });
      const plan = planRun(scenario, workers, { shard, descriptorLimit: descriptorLimit() });
      process.stdout.write((flags.json ? JSON.stringify(plan, null, 2) : formatPlan(plan)) + '\n');
    });
}
