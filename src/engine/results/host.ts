import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RunHost } from '../../summary/run-summary.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';

/** The load generator's machine: what a reader needs to judge the numbers (not its name or paths). */
export function hostFacts(loadAverageStart: number[]): RunHost {
  return {
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    loadAverageStart: loadAverageStart.map((v) => Math.round(v * 100) / 100),
    loadAverageEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** The scenario file as written, for the report; undefined for inline scenarios or an unreadable file. */
export function scenarioTextOf(s: ResolvedScenario): string | undefined {
  try {
    return readFileSync(s.file, 'utf8');
  } catch {
    return undefined;
  }
}
