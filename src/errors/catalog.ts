/**
 * The catalog of every fleetsim error code. Codes are stable: scripts and CI jobs match on them,
 * so a code is never renamed or reused. `docs/errors.md` lists exactly these codes (a test keeps
 * the two in sync). Each entry says which exit code the CLI uses when the error reaches it.
 */
export const ERROR_CATALOG = {
  FLEETSIM_E_USAGE: { exit: 2, summary: 'Invalid command-line usage (unknown flag, bad flag value).' },
  FLEETSIM_E_FILE_NOT_FOUND: { exit: 2, summary: 'A scenario, profile or report file does not exist or cannot be read.' },
  FLEETSIM_E_YAML_SYNTAX: { exit: 2, summary: 'A YAML file is not well-formed.' },
  FLEETSIM_E_INPUT_LIMIT: { exit: 2, summary: 'A YAML file is past a limit fleetsim sets on what it reads: size, nesting depth or alias expansions.' },
  FLEETSIM_E_SCENARIO_INVALID: { exit: 2, summary: 'A scenario failed validation; every problem is listed with file:line:col.' },
  FLEETSIM_E_PROFILE_INVALID: { exit: 2, summary: 'A hardware profile failed validation.' },
  FLEETSIM_E_PROTOCOL_INVALID: { exit: 2, summary: 'A protocol file (target.preset) failed validation; every problem is listed with its file:line:col.' },
  FLEETSIM_E_PRESET_MODULE: { exit: 2, summary: 'A module preset (target.preset: ./x.mjs) cannot be loaded or does not implement the preset interface.' },
  FLEETSIM_E_UNKNOWN_PROFILE: { exit: 2, summary: 'A fleet entry names a hardware profile that does not exist.' },
  FLEETSIM_E_THRESHOLD_SYNTAX: { exit: 2, summary: 'A threshold expression is not in the k6 grammar.' },
  FLEETSIM_E_UNKNOWN_METRIC: { exit: 2, summary: 'A threshold or comparison names a metric fleetsim does not produce.' },
  FLEETSIM_E_RESOURCE_LIMIT: { exit: 2, summary: 'The run needs more descriptors, ports or memory than this machine allows.' },
  FLEETSIM_E_SECRET_MISSING: { exit: 2, summary: 'A ${env:NAME} or ${file:path} secret in the scenario is not set or cannot be read.' },
  FLEETSIM_E_TLS_FILE: { exit: 2, summary: 'A CA bundle, certificate or key named in target.tls is missing or unreadable.' },
  FLEETSIM_E_TARGET_UNREACHABLE: { exit: 1, summary: 'The target backend could not be reached before the run started.' },
  FLEETSIM_E_BACKEND_START: { exit: 1, summary: 'The embedded backend or a local broker failed to start.' },
  FLEETSIM_E_BROKER_MISSING: { exit: 2, summary: 'A local Mosquitto broker was requested but `mosquitto` is not installed.' },
  FLEETSIM_E_SHARD_FAILED: { exit: 1, summary: 'A shard (worker thread or process) crashed during the run.' },
  FLEETSIM_E_SHARD_MISSING: { exit: 3, summary: 'A shard result is missing, duplicated or from another scenario, so the merged measurement is invalid.' },
  FLEETSIM_E_MERGE_WHOLE_FLEET: { exit: 2, summary: 'fleetsim merge was given shard summaries with results of the whole fleet (cost, years) that cannot be added shard by shard; refused rather than showing one slice as the fleet.' },
  FLEETSIM_E_SHARD_DECISION: { exit: 2, summary: 'A --shard run would take a fleet-wide decision (staged rollout, abortIf, approval rate) from one slice; refused rather than giving a different answer.' },
  FLEETSIM_E_GENERATOR_SATURATED: { exit: 3, summary: 'The simulator fell behind its schedule past the bound; the measurement is invalid.' },
  FLEETSIM_E_REPORT_INVALID: { exit: 2, summary: 'A report directory or summary.json is missing or of an unsupported schema version.' },
  FLEETSIM_E_FAULT_UNSUPPORTED: { exit: 2, summary: 'A backend fault phase cannot run against this target: the fault proxy terminates no TLS, so it cannot read what the fault needs.' },
  FLEETSIM_E_INTERNAL: { exit: 1, summary: 'A bug in fleetsim. Please report it with the command and scenario.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CATALOG[code].exit;
}
