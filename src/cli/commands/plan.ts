import type { Command } from 'commander';
import { defaultWorkers, machineLimits, refusalOf } from '../../engine/resources.js';
import { loadScenario } from '../../scenario/load.js';
import { formatPlan, planRun } from '../../scenario/plan.js';
import { parseProcessesFlag, parseShardFlag, parseSourceAddressesFlag, parseWorkersFlag } from '../flags.js';
import { COMMAND_LISTING } from './listing.js';

interface PlanFlags {
  workers?: string;
  processes?: string;
  sourceAddresses?: string;
  shard?: string;
  clock?: 'wall' | 'virtual';
  duration?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description(COMMAND_LISTING.plan.summary)
    .argument('<scenario>', 'scenario YAML file')
    .option('-w, --workers <n>', 'worker threads (shards) in all, split among shard processes (default: available cores; one fewer when the embedded broker runs in this process)')
    .option('--processes <n>', 'plan N shard processes (default: as many as the descriptor limit needs)')
    .option('--source-addresses <list>', 'MQTT source addresses: 127.0.0.1-127.0.0.32, a comma list, or none (default: automatic on loopback)')
    .option('--shard <i/N>', 'plan slice i of N of the fleet (also read from JOB_COMPLETION_INDEX/JOB_COMPLETIONS)')
    .option('--clock <clock>', 'wall or virtual (overrides the scenario)')
    .option('--duration <d>', 'run length, e.g. 30s (overrides the scenario)')
    .option('--json', 'print the plan as JSON')
    .action((file: string, flags: PlanFlags) => {
      const workersFlag = flags.workers === undefined ? undefined : parseWorkersFlag(flags.workers);
      const shard = parseShardFlag(flags.shard, process.env);
      const scenario = loadScenario(file, { clock: flags.clock, duration: flags.duration });
      const workers = workersFlag ?? defaultWorkers(scenario);
      const machine = machineLimits();
      const plan = planRun(scenario, workers, {
        shard,
        descriptorLimit: machine.descriptorsPerProcess,
        memory: { availableMemoryMB: machine.availableMemoryMB, totalMemoryMB: machine.totalMemoryMB },
        processes: flags.processes === undefined ? undefined : parseProcessesFlag(flags.processes),
        sourceAddresses: flags.sourceAddresses === undefined ? undefined : parseSourceAddressesFlag(flags.sourceAddresses),
      });
      process.stdout.write((flags.json ? JSON.stringify(plan, null, 2) : formatPlan(plan)) + '\n');
      // What `run` would refuse: the plan above shows the budget, the exit status says it cannot run.
      const refused = refusalOf(plan.layout);
      if (refused) throw refused;
    });
}
