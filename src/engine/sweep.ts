import { FleetsimError } from '../errors/fleetsim-error.js';
import type { TimelineRow } from '../metrics/aggregate.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import { scaleScenario } from '../scenario/scale.js';
import { buildSweepSummary, pointOfError, pointOfRun, type SweepPoint, type SweepSummary } from '../summary/sweep-summary.js';
import { VERSION } from '../version.js';
import { runScenario, type RunResult } from './coordinator.js';

export interface SweepOptions {
  /** Fleet sizes; run in ascending order, duplicates once. */
  sizes: readonly number[];
  workers: number;
  sweepId: string;
  /** Report directory of a size's run, relative to the sweep's directory. */
  sizeDir?: (devices: number) => string;
  /** Called before each size runs, with the scaled scenario. */
  onSizeStart?: (scenario: ResolvedScenario, index: number, of: number) => void;
  /**
   * Called with each finished run before the next size starts (the CLI writes the size's report
   * here, so a sweep stopped half-way still leaves every finished size on disk).
   */
  onRunDone?: (devices: number, dir: string, result: RunResult) => Promise<void>;
  /** Called for every merged interval of the running size (live progress). */
  onInterval?: (row: TimelineRow, elapsedMs: number) => void;
  log?: (line: string) => void;
  /** Resolves when the user asks to stop: the running size stops early and no further size starts. */
  interrupt?: Promise<void>;
}

export const defaultSizeDir = (devices: number): string => `size-${devices}`;

/**
 * `fleetsim sweep`: the same scenario at each fleet size, one run after another in this process
 * (each size scaled by scaleScenario: the mix kept, arrival rates scaled with the fleet), then one
 * sweep summary with the knee. Sizes run one at a time so that a size never competes with another
 * for the cores it is measured on.
 *
 * A size whose run cannot start (a FleetsimError such as the descriptor limit) becomes an error
 * point and the sweep goes on: larger sizes fail the same way quickly, smaller ones still count.
 */
export async function runSweep(s: ResolvedScenario, opts: SweepOptions): Promise<SweepSummary> {
  const sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);
  const sizeDir = opts.sizeDir ?? defaultSizeDir;
  const startedAt = new Date();
  const points: SweepPoint[] = [];
  let interrupted = false;
  opts.interrupt?.then(() => (interrupted = true));

  for (let i = 0; i < sizes.length && !interrupted; i++) {
    const devices = sizes[i];
    const scaled = scaleScenario(s, devices);
    opts.onSizeStart?.(scaled, i, sizes.length);
    let result: RunResult;
    try {
      result = await runScenario(scaled, {
        workers: opts.workers,
        runId: `${opts.sweepId}-size-${devices}`,
        interrupt: opts.interrupt,
        onInterval: opts.onInterval,
        log: opts.log,
      });
    } catch (err) {
      if (!(err instanceof FleetsimError)) throw err;
      opts.log?.(`size ${devices}: ${err.message}`);
      points.push(pointOfError(devices, `${err.code}: ${err.message}`, err.exitCode));
      continue;
    }
    const dir = sizeDir(devices);
    await opts.onRunDone?.(devices, dir, result);
    points.push(pointOfRun(result.summary, dir));
    if (result.summary.run.status === 'interrupted') interrupted = true;
  }

  return buildSweepSummary({
    sweep: { id: opts.sweepId, scenario: s.name, scenarioFile: s.file, seed: s.seed, clock: s.clock, workers: opts.workers },
    sizes,
    version: VERSION,
    startedAt,
    endedAt: new Date(),
    interrupted,
    points,
  });
}
