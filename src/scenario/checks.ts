import type { Problem } from '../errors/fleetsim-error.js';
import { metricNames } from '../metrics/catalog.js';
import { compileThreshold } from '../metrics/thresholds.js';
import path from 'node:path';
import { statSync } from 'node:fs';
import { readSecret } from './secrets.js';
import { isLinkTypeName, LINK_TYPE_NAMES } from '../models/link-types.js';
import { parseDuration } from '../models/units.js';
import { checkProfileRef } from './profile-load.js';
import { checkPresetRef } from './protocol-load.js';
import { MAX_DEVICES, RECONNECT_DEFAULTS, scenarioSchema } from './schema.js';
import { suggestionHint } from './suggest.js';
import { formatPath, type DocPath, type YamlSource } from './yaml-source.js';
import { quoted } from './yaml-limits.js';
import { checkFaultPhases, type FleetFacts } from './fault-checks.js';

/**
 * Checks that need knowledge outside the schema: profile and link names, metric names and the
 * threshold grammar, and relations between fields. They run on the raw data even when the schema
 * found problems elsewhere, so one run of `fleetsim validate` lists every problem; each check
 * looks only at parts whose shape is right and leaves the rest to the schema's messages.
 */
export function semanticProblems(data: unknown, source: YamlSource, clockOverride?: unknown): Problem[] {
  const out: Problem[] = [];
  const add = (path: DocPath, message: string, hint: string, at: 'key' | 'value' = 'value'): void => {
    out.push({ location: source.locate(path, at), path: formatPath(path), message, hint });
  };
  if (!isRecord(data)) return out;
  const facts: FleetFacts = { profiles: new Set(), links: new Set(), cells: false };
  checkFleet(data.fleet, source, out, add, facts);
  checkFleetSize(data.fleet, add);
  checkPhases(data.phases, data.duration, add);
  checkThresholds(data.thresholds, add);
  checkBehaviour(data.behaviour, add);
  checkTarget(data.target, scenarioDir(source), add);
  if (isRecord(data.target)) out.push(...checkPresetRef(data.target, source, scenarioDir(source)));
  const clock = effectiveClock(data.clock, clockOverride);
  checkLifetime(data, clock, add);
  checkModelledBackend(data, clock, add);
  checkFaultPhases(data, facts, add);
  return out;
}

/**
 * The clock the run will use: `--clock` when it names one (a bad one is a usage error of its own,
 * load.ts), else the file's `clock:` (default wall), with the words that say where it came from.
 */
function effectiveClock(fileClock: unknown, override: unknown): { virtual: boolean; said: string } {
  if (override === 'wall' || override === 'virtual') return { virtual: override === 'virtual', said: `--clock ${override}` };
  return { virtual: fileClock === 'virtual', said: fileClock === undefined ? 'the default wall clock' : `clock: ${String(fileClock)}` };
}

/** `lifetime:` follows the fleet on the virtual clock, batch by batch from the fleet's groups. */
function checkLifetime(data: Record<string, unknown>, clock: { virtual: boolean; said: string }, add: Add): void {
  const l = data.lifetime;
  if (!isRecord(l)) return;
  if (!clock.virtual) add(['lifetime'], `lifetime needs the virtual clock; this run is on the wall clock (${clock.said})`, 'add clock: virtual, or run with --clock virtual (the years are modelled, not run in real time)', 'key');
  const groups = Array.isArray(data.fleet) ? data.fleet.length : 0;
  if (!Array.isArray(l.production)) return;
  l.production.forEach((b, i) => {
    if (isRecord(b) && typeof b.group === 'number' && b.group >= groups) {
      add(['lifetime', 'production', i, 'group'], `group ${b.group} is not a fleet group (the fleet has ${groups})`, `use an index from 0 to ${groups - 1}: the fleet group whose profile this batch is`);
    }
  });
}

/**
 * `backend:` sizes the modelled backend, which exists on the virtual clock only. On the wall clock
 * the devices talk to a real server (the embedded backend or a target) whose capacity is its own:
 * making the embedded backend queue and serve like the model would be a second backend model, and
 * it could not honour it for an external target at all. So a wall-clock run refuses it rather than
 * ignore it silently.
 */
function checkModelledBackend(data: Record<string, unknown>, clock: { virtual: boolean; said: string }, add: Add): void {
  if (!isRecord(data.backend) || clock.virtual) return;
  add(['backend'], `backend: sizes the modelled backend of the virtual clock; this run is on the wall clock (${clock.said}), where the real target's own capacity answers`, 'run with --clock virtual (or set clock: virtual); to load a real backend, remove backend:', 'key');
}

/** Secrets must be there (the value is read, never shown) and TLS files readable, each reported where it is written. */
function checkTarget(target: unknown, baseDir: string, add: Add): void {
  if (!isRecord(target)) return;
  const secrets: Array<[DocPath, unknown]> = [
    [['target', 'fleetKey'], target.fleetKey],
    [['target', 'embedded', 'fleetKey'], isRecord(target.embedded) ? target.embedded.fleetKey : undefined],
  ];
  for (const [p, v] of secrets) {
    if (typeof v !== 'string') continue;
    const r = readSecret(v, baseDir);
    if (!r.ok) add(p, r.message, r.hint);
  }
  const tls = target.tls;
  if (!isRecord(tls)) return;
  const files: Array<[DocPath, unknown, 'file' | 'dir']> = [
    [['target', 'tls', 'ca'], tls.ca, 'file'],
    [['target', 'tls', 'deviceCerts', 'folder'], isRecord(tls.deviceCerts) ? tls.deviceCerts.folder : undefined, 'dir'],
  ];
  for (const [p, v, kind] of files) {
    if (typeof v !== 'string' || v === '') continue;
    const file = path.resolve(baseDir, v);
    const st = statSync(file, { throwIfNoEntry: false });
    if (st === undefined || (kind === 'dir' ? !st.isDirectory() : !st.isFile())) add(p, `${kind === 'dir' ? 'folder' : 'file'} ${v} does not exist (FLEETSIM_E_TLS_FILE)`, `give a path relative to the scenario (${file} was looked for)`);
  }
  if (tls.insecure === true && tls.ca !== undefined) add(['target', 'tls', 'insecure'], 'insecure: true ignores the ca given', 'drop one of them: verify against ca, or (test servers only) insecure: true');
}

type Add = (path: DocPath, message: string, hint: string, at?: 'key' | 'value') => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Relative profile paths are relative to the scenario file (the current directory for inline text). */
function scenarioDir(source: YamlSource): string {
  return source.file === '<inline>' ? process.cwd() : path.dirname(path.resolve(source.file));
}

function checkFleet(fleet: unknown, source: YamlSource, out: Problem[], add: Add, facts: FleetFacts): void {
  if (!Array.isArray(fleet)) return;
  fleet.forEach((group, i) => {
    if (!isRecord(group)) return;
    const checked = checkProfileRef(group.profile, source, ['fleet', i, 'profile'], { baseDir: scenarioDir(source), root: scenarioSchema });
    out.push(...checked.problems);
    const profile = checked.profile;
    if (profile) facts.profiles.add(profile.name);
    if (typeof group.link === 'string') facts.links.add(group.link);
    else if (profile) facts.links.add(profile.links[0]);
    if (group.cells !== undefined) facts.cells = true;
    if (typeof group.link !== 'string' || group.link === '') return;
    if (!isLinkTypeName(group.link)) {
      add(['fleet', i, 'link'], `unknown link ${quoted(group.link)}`, suggestionHint(group.link, [...LINK_TYPE_NAMES], 'known links'));
    } else if (profile && !(profile.links as readonly string[]).includes(group.link)) {
      add(['fleet', i, 'link'], `${profile.name} has no ${group.link} link`, `${profile.name} supports: ${profile.links.join(', ')}`);
    }
  });
}

/** Each group is within MAX_DEVICES (the schema says so); so must the whole fleet be. */
function checkFleetSize(fleet: unknown, add: Add): void {
  if (!Array.isArray(fleet)) return;
  const counts = fleet.map((g) => (isRecord(g) && Number.isInteger(g.count) && (g.count as number) > 0 ? (g.count as number) : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > MAX_DEVICES && counts.every((c) => c <= MAX_DEVICES)) {
    add(['fleet'], `the fleet has ${total.toLocaleString('en-US')} devices; one run simulates at most ${MAX_DEVICES.toLocaleString('en-US')}`, 'split the fleet over machines: run each part with --shard i/N and merge the reports (fleetsim merge)');
  }
}

/** A phase at or after the end of the run would silently never happen. */
function checkPhases(phases: unknown, duration: unknown, add: Add): void {
  const end = durationMs(duration);
  if (!Array.isArray(phases) || end === undefined) return;
  phases.forEach((p, i) => {
    if (!isRecord(p)) return;
    const at = durationMs(p.at);
    if (at !== undefined && at >= end) add(['phases', i, 'at'], `the phase starts at ${String(p.at)}, when the run (duration: ${String(duration)}) has ended, so it would never happen`, 'start it before the end of the run, or make the run longer');
  });
}

function checkThresholds(thresholds: unknown, add: Add): void {
  if (!isRecord(thresholds)) return;
  const known = metricNames();
  for (const [metric, list] of Object.entries(thresholds)) {
    if (!known.includes(metric)) {
      add(['thresholds', metric], `unknown metric ${quoted(metric)} (FLEETSIM_E_UNKNOWN_METRIC)`, suggestionHint(metric, known, 'known metrics'), 'key');
      continue;
    }
    if (!Array.isArray(list)) continue;
    list.forEach((expression, j) => {
      if (typeof expression !== 'string') return;
      const r = compileThreshold(metric, expression);
      if (!r.ok) {
        const code = r.kind === 'syntax' ? ' (FLEETSIM_E_THRESHOLD_SYNTAX)' : '';
        add(['thresholds', metric, j], `threshold "${expression}": ${r.message}${code}`, r.hint);
      }
    });
  }
}

function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const r = parseDuration(v);
  return r.ok ? r.value : undefined;
}

function checkBehaviour(behaviour: unknown, add: Add): void {
  if (!isRecord(behaviour)) return;
  const keepalive = durationMs(behaviour.keepalive);
  // Past 65535s is the schema's range; here only the whole seconds MQTT counts in.
  if (keepalive !== undefined && keepalive % 1000 !== 0 && keepalive <= 65_535_000) {
    add(['behaviour', 'keepalive'], `keepalive "${String(behaviour.keepalive)}" is not a whole number of seconds up to 65535s`, 'MQTT keepalive is whole seconds from 0s (off) to 65535s; 60s is common');
  }
  if (isRecord(behaviour.reconnect)) {
    const baseText = behaviour.reconnect.base ?? RECONNECT_DEFAULTS.base;
    const capText = behaviour.reconnect.cap ?? RECONNECT_DEFAULTS.cap;
    const base = durationMs(baseText);
    const cap = durationMs(capText);
    if (base !== undefined && cap !== undefined && cap < base) {
      const at = behaviour.reconnect.cap === undefined ? 'base' : 'cap';
      add(['behaviour', 'reconnect', at], `reconnect cap ${String(capText)}${at === 'base' ? ' (the default)' : ''} is below its base ${String(baseText)}`, 'the backoff grows from base up to cap; make cap at least base');
    }
  }
}
