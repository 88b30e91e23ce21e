import path from 'node:path';
import type { Command } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { runScenario } from '../../engine/coordinator.js';
import { defaultWorkers } from '../../engine/resources.js';
import { writeReport } from '../../report/writer.js';
import { writeFileAtomic } from '../../report/atomic-file.js';
import { MERGE_PARTS_FILE, mergePartsJson } from '../../engine/results/merge-parts.js';
import { formatSummaryTable, ProgressPrinter } from '../../report/console.js';
import { terminalText } from '../../report/escape.js';
import { simulatedHorizonMs } from '../../scenario/resolved.js';
import { formatDuration } from '../../metrics/format.js';
import { parseStartAtFlag, parsePortFlag, parseProcessesFlag, parseProfileFlag, parseShardFlag, parseSourceAddressesFlag, parseWorkersFlag } from '../flags.js';
import { EXIT_CODES } from '../../summary/verdict.js';
import { COMMAND_LISTING } from './listing.js';

interface RunFlags {
  workers?: string;
  processes?: string;
  sourceAddresses?: string;
  clock?: 'wall' | 'virtual';
  seed?: string;
  duration?: string;
  out: string;
  shard?: string;
  quiet?: boolean;
  startAt?: string;
  metricsPort?: string;
  profile?: string;
}

export function runId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${stamp}`;
}

export function register(program: Command): void {
  program
    .command('run')
    .description(COMMAND_LISTING.run.summary)
    .argument('<scenario>', 'scenario YAML file')
    .option('-w, --workers <n>', 'worker threads (shards) in all, split among shard processes (default: available cores; one fewer when the embedded broker runs in this process)')
    .option('--processes <n>', 'run the shards in N processes (default: as many as the descriptor limit needs)')
    .option('--source-addresses <list>', 'bind MQTT sockets to these addresses, round-robin: 127.0.0.1-127.0.0.32, a comma list, or none (default: automatic on loopback)')
    .option('--clock <clock>', 'wall or virtual (overrides the scenario)')
    .option('--seed <n>', 'random seed (overrides the scenario)')
    .option('--duration <d>', 'run length, e.g. 30s (overrides the scenario)')
    .option('--shard <i/N>', 'run slice i of N of the fleet (also read from JOB_COMPLETION_INDEX/JOB_COMPLETIONS)')
    .option('--start-at <time>', 'start at this instant (ISO 8601, e.g. 2026-11-28T10:00:00Z), so that shards on several machines line up')
    .option('-o, --out <dir>', 'where run reports go', 'reports')
    .option('-q, --quiet', 'no live progress')
    .option('--metrics-port <port>', 'serve live metrics for Prometheus at http://127.0.0.1:<port>/metrics (0 = any free port)')
    .option('--profile <kind>', 'write a cpu or heap profile of every shard thread into the report directory')
    .action(async (file: string, flags: RunFlags) => {
      const workersFlag = flags.workers === undefined ? undefined : parseWorkersFlag(flags.workers);
      const shard = parseShardFlag(flags.shard, process.env);
      const scenario = loadScenario(file, {
        clock: flags.clock,
        seed: flags.seed === undefined ? undefined : Number(flags.seed),
        duration: flags.duration,
      });
      const workers = workersFlag ?? defaultWorkers(scenario);
      const id = runId(scenario.name) + (shard ? `-shard${shard.index}of${shard.count}` : '');
      const dir = path.resolve(flags.out, id);

      const profile = parseProfileFlag(flags.profile);
      // prom-client is loaded only when asked for (~0.1 s of CPU at every start otherwise).
      const exporter = flags.metricsPort === undefined ? undefined : new (await import('../../report/prometheus-exporter.js')).PrometheusExporter({ scenario: scenario.name, run: id });
      if (exporter) {
        const url = await exporter.listen(parsePortFlag(flags.metricsPort!, '--metrics-port'));
        process.stderr.write(`metrics: ${url}\n`);
      }
      const progress = flags.quiet ? undefined : new ProgressPrinter({ devices: scenario.devices, totalMs: simulatedHorizonMs(scenario), stream: process.stderr });
      let interrupt!: () => void;
      const interrupted = new Promise<void>((r) => (interrupt = r));
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          process.stderr.write(`\n${sig} again: exiting without a report\n`);
          process.exit(EXIT_CODES.interrupted);
        }
        process.stderr.write(`\n${sig}: stopping devices gracefully and writing a partial report (press again to abort)\n`);
        interrupt();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        process.stderr.write(`fleetsim: ${scenario.name}: ${scenario.devices} devices, ${workers} worker(s), ${scenario.clock} clock\n`);
        // The file's own phases all start before its end (validation); a shorter --duration can cut some off.
        for (const p of scenario.phases) if (p.atMs >= scenario.durationMs) process.stderr.write(`warning: the ${p.kind} phase at ${formatDuration(p.atMs)} will not run: --duration ends the run at ${formatDuration(scenario.durationMs)}\n`);
        const result = await runScenario(scenario, {
          workers,
          processes: flags.processes === undefined ? undefined : parseProcessesFlag(flags.processes),
          sourceAddresses: flags.sourceAddresses === undefined ? undefined : parseSourceAddressesFlag(flags.sourceAddresses),
          runId: id,
          shard,
          startAtMs: parseStartAtFlag(flags.startAt),
          interrupt: interrupted,
          profile,
          profileDir: dir,
          onInterval: (row) => {
            progress?.update(row);
            exporter?.update(row);
          },
          log: (line) => process.stderr.write(`${terminalText(line)}\n`),
        });
        progress?.done();
        await writeReport(dir, result.summary, result.timeline);
        if (result.mergeParts) await writeFileAtomic(dir, MERGE_PARTS_FILE, mergePartsJson(result.mergeParts));
        process.stdout.write(formatSummaryTable(result.summary) + '\n');
        process.stdout.write(`report: ${path.relative(process.cwd(), dir) || dir}/report.html\n`);
        process.exitCode = result.summary.result.exitCode;
      } finally {
        await exporter?.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
