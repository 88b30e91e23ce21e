import { FleetsimError } from '../errors/fleetsim-error.js';
import type { TimelineRow } from '../metrics/aggregate.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import { scaleScenario } from '../scenario/scale.js';
import { buildSweepSummary, capacityAnswer, pointOfError, pointOfRun, type SweepPoint, type SweepSummary } from '../summary/sweep-summary.js';
import { withBackendParameter, type BackendParameter } from '../scenario/backend-parameter.js';
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
  /**
   * A capacity sweep: the scenario's own fleet size (`sizes` holds just it) at each value of one
   * backend parameter, ascending; the answer is the smallest value that holds every threshold.
   */
  capacity?: { parameter: BackendParameter; values: readonly number[] };
}

export const defaultSizeDir = (devices: number): string => `size-${devices}`;
export const capacityDir = (value: number): string => `capacity-${value}`;

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

  // A capacity sweep is one size at several values of a backend parameter.
  const cap = opts.capacity;
  const runs = cap ? cap.values.map((v) => ({ devices: s.devices, value: v as number | undefined })) : sizes.map((devices) => ({ devices, value: undefined as number | undefined }));
  for (let i = 0; i < runs.length && !interrupted; i++) {
    const { devices, value } = runs[i];
    const scaled = cap && value !== undefined ? withBackendParameter(s, cap.parameter, value) : scaleScenario(s, devices);
    opts.onSizeStart?.(scaled, i, runs.length);
    let result: RunResult;
    try {
      result = await runScenario(scaled, {
        workers: opts.workers,
        runId: value === undefined ? `${opts.sweepId}-size-${devices}` : `${opts.sweepId}-${capacityDir(value)}`,
        interrupt: opts.interrupt,
        onInterval: opts.onInterval,
        log: opts.log,
      });
    } catch (err) {
      if (!(err instanceof FleetsimError)) throw err;
      opts.log?.(`size ${devices}: ${err.message}`);
      points.push({ ...pointOfError(devices, `${err.code}: ${err.message}`, err.exitCode), ...(value === undefined ? {} : { capacity: value }) });
      continue;
    }
    const dir = value === undefined ? sizeDir(devices) : capacityDir(value);
    await opts.onRunDone?.(devices, dir, result);
    points.push({ ...pointOfRun(result.summary, dir), ...(value === undefined ? {} : { capacity: value }) });
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
    ...(cap ? { capacity: capacityAnswer(cap.parameter.name, points, s.thresholds[0]) } : {}),
  });
}
