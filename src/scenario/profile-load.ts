import { readdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type * as z from 'zod';
import { FleetsimError, type Problem } from '../errors/fleetsim-error.js';
import { packagePath } from '../package-files.js';
import type { HardwareProfile } from '../models/hardware-profile.js';
import { crossFieldProblems, mergeProfileData, toHardwareProfile } from './profile-convert.js';
import { dottedPath, inlineProfileRefSchema, profileFileSchema, profileLeaves, profileOverlaySchema, type ProfileData } from './profile-schema.js';
import { sourceComments } from './profile-sources.js';
import { deepFreeze } from './deep-freeze.js';
import { suggestionHint } from './suggest.js';
import { formatPath, readInputFile, YamlSource, type DocPath } from './yaml-source.js';
import { problemsFromIssues } from './zod-problems.js';
import { quoted } from './yaml-limits.js';

/**
 * Loading hardware profiles: one file, the registry of a directory (by default the repository's
 * `profiles/`), and the references a scenario's `fleet[].profile` may hold:
 *
 *   profile: nrf9160-tracker                       a name from the registry
 *   profile: ./boards/my-tracker.yaml              a file, relative to the scenario
 *   profile: { extends: nrf9160-tracker, power: { battery: { capacity: 3.6Ah } } }
 *
 * A profile file may itself `extends:` a name or a path (relative to that file); its fields are laid
 * over the base's (mappings merge, values and lists replace), and the result is validated as a
 * whole. Validation reports every problem at once, each at `file:line:col` with its YAML path and
 * a hint, as scenario validation does (`FLEETSIM_E_PROFILE_INVALID`, exit 2); that includes every
 * number written without a source comment. Resolved profiles are deep-frozen.
 */

/** A profile with what it was made from. */
export interface LoadedProfile {
  readonly profile: HardwareProfile;
  /** The complete profile as written, `extends` merged (unit strings unparsed). */
  readonly data: ProfileData;
  /** Absolute path of the file, when it came from one. */
  readonly file?: string;
}

export interface ProfileRegistry {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** Profile names, sorted. */
  names(): string[];
  /** The profile, undefined for an unknown name; a lazy registry throws an invalid one's FLEETSIM_E_PROFILE_INVALID here. */
  get(name: string): HardwareProfile | undefined;
  details(name: string): LoadedProfile | undefined;
  /** The profile, or `FLEETSIM_E_UNKNOWN_PROFILE` naming the known ones and the likely one. */
  require(name: string): HardwareProfile;
}

/** `{ extends, ...overrides }` as a scenario writes it in `fleet[].profile`. */
export type ProfileRef = string | ({ extends: string } & Record<string, unknown>);

export interface ResolveOptions {
  /** Where names are looked up (default: the shipped profiles). */
  registry?: ProfileRegistry;
  /** Recorded as the source of inline overrides, e.g. `scenario fleet.yaml fleet[1].profile`. */
  origin?: string;
}

/** The package's `profiles/` directory. */
export function shippedProfilesDir(): string {
  return packagePath('profiles');
}

let shipped: ProfileRegistry | undefined;

/**
 * The registry of the shipped profiles, once per process. Lazy: a profile is parsed and validated
 * when first named, so a run loads the profiles its scenario uses, not all five (~35 ms of CPU
 * each at start-up; bench/RESULTS.md, "Virtual-clock start-up, round 7"). The tests load every
 * shipped profile (test/unit/profiles.test.ts), so a broken one still fails there.
 */
export function defaultProfileRegistry(): ProfileRegistry {
  shipped ??= loadProfileRegistry(shippedProfilesDir(), { lazy: true });
  return shipped;
}

/** A reference that names a file rather than a registry profile. */
export function isProfilePath(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || /\.ya?ml$/i.test(ref);
}

/** Loads one profile file (which may `extends` a shipped profile or another file). */
export function loadProfileFile(file: string, registry?: ProfileRegistry): HardwareProfile {
  return loadProfileDetails(file, registry).profile;
}

export function loadProfileDetails(file: string, registry?: ProfileRegistry): LoadedProfile {
  return loadFile(path.resolve(file), lookupIn(registry), []);
}

/**
 * Loads every `*.yaml` in `dir`. A profile's name must be its file name. One invalid profile fails
 * the whole registry, with every problem of every file. `lazy`: only the directory is read now;
 * each profile is loaded when first asked for, and an invalid one throws its own
 * `FLEETSIM_E_PROFILE_INVALID` then.
 */
export function loadProfileRegistry(dir: string = shippedProfilesDir(), options: { lazy?: boolean } = {}): ProfileRegistry {
  const absDir = path.resolve(dir);
  let entries: string[];
  try {
    entries = readdirSync(absDir).filter((f) => /\.ya?ml$/i.test(f)).sort();
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_FILE_NOT_FOUND', `profile directory ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { hint: 'give a directory of profile YAML files', cause: err });
  }
  const files = new Map(entries.map((f) => [f.replace(/\.ya?ml$/i, ''), path.join(absDir, f)]));
  const loaded = new Map<string, LoadedProfile>();
  const failed = new Map<string, FleetsimError>();
  const lookup: Lookup = {
    names: () => [...files.keys()],
    byName(name, stack) {
      const done = loaded.get(name);
      if (done) return done;
      const error = failed.get(name);
      if (error) throw error;
      const file = files.get(name);
      if (!file) return undefined;
      if (stack.includes(file)) throw cycleError([...stack, file]);
      try {
        const l = loadFile(file, lookup, stack, name);
        loaded.set(name, l);
        return l;
      } catch (err) {
        if (err instanceof FleetsimError) failed.set(name, err);
        throw err;
      }
    },
  };
  if (options.lazy !== true) {
    for (const name of files.keys()) {
      try {
        lookup.byName(name, []);
      } catch (err) {
        if (!(err instanceof FleetsimError)) throw err;
      }
    }
    if (failed.size > 0) {
      const problems = dedupe([...failed.values()].flatMap(asProblems));
      throw new FleetsimError('FLEETSIM_E_PROFILE_INVALID', `${failed.size} of ${files.size} profiles in ${labelOf(absDir)} are invalid`, { problems });
    }
  }
  const names = [...files.keys()];
  // Loaded already (eager), or now and kept (lazy); an unknown name is undefined.
  const details = (name: string): LoadedProfile | undefined => lookup.byName(name, []);
  const require = (name: string): HardwareProfile => {
    const l = details(name);
    if (l) return l.profile;
    throw new FleetsimError('FLEETSIM_E_UNKNOWN_PROFILE', `unknown profile ${quoted(name)}`, { hint: suggestionHint(name, names, 'known profiles') });
  };
  return { dir: absDir, names: () => [...names], get: (n) => details(n)?.profile, details, require };
}

/** Resolves a scenario's `fleet[].profile`; `baseDir` is the scenario's directory (paths are relative to it). */
export function resolveProfileRef(ref: ProfileRef, baseDir: string, options: ResolveOptions = {}): HardwareProfile {
  return resolveProfileRefDetails(ref, baseDir, options).profile;
}

export function resolveProfileRefDetails(ref: ProfileRef, baseDir: string, options: ResolveOptions = {}): LoadedProfile {
  const lookup = lookupIn(options.registry);
  if (typeof ref === 'string') {
    if (isProfilePath(ref)) return loadFile(path.resolve(baseDir, ref), lookup, []);
    const registry = options.registry ?? defaultProfileRegistry();
    registry.require(ref);
    return registry.details(ref)!;
  }
  const origin = options.origin ?? 'inline override';
  const parsed = inlineProfileRefSchema.safeParse(ref, { reportInput: true });
  if (!parsed.success) throw invalid(origin, unplaced(parsed.error.issues, ref, inlineProfileRefSchema, origin));
  const base = resolveBase(parsed.data.extends, baseDir, lookup, []);
  if ('problems' in base) throw invalid(origin, base.problems.flatMap((b) => [{ path: 'extends', message: b.message, hint: b.hint }, ...b.nested]));
  const merged = overlay(base.loaded, ref, inlineSources(ref, origin));
  if (merged.issues) throw invalid(origin, unplaced(merged.issues, merged.data, profileFileSchema, origin));
  if (merged.problems.length > 0) throw invalid(origin, merged.problems.map(({ path: p, message, hint }) => ({ path: formatPath(p), message, hint })));
  return finish(merged.data, merged.sources);
}

/**
 * The problems of a scenario's `fleet[].profile` at `at` in `source` (the scenario), and the
 * profile when there are none. Shape problems of an inline reference are the scenario schema's to
 * report (`root` is that schema); this adds unknown names, bad files and bases, and what only shows
 * once overrides are merged.
 */
export function checkProfileRef(ref: unknown, source: YamlSource, at: DocPath, options: ResolveOptions & { baseDir: string; root: z.ZodType }): { problems: Problem[]; profile?: HardwareProfile } {
  const problem = (p: DocPath, message: string, hint?: string): Problem => ({ location: source.locate(p), path: formatPath(p), message, hint });
  if (typeof ref === 'string' && ref !== '' && !isProfilePath(ref)) {
    const registry = options.registry ?? defaultProfileRegistry();
    const profile = registry.get(ref);
    if (profile) return { problems: [], profile };
    return { problems: [problem(at, `unknown profile ${quoted(ref)} (FLEETSIM_E_UNKNOWN_PROFILE)`, suggestionHint(ref, registry.names(), 'known profiles'))] };
  }
  const lookup = lookupIn(options.registry);
  if (typeof ref === 'string' && ref !== '') {
    try {
      return { problems: [], profile: loadFile(path.resolve(options.baseDir, ref), lookup, []).profile };
    } catch (err) {
      if (!(err instanceof FleetsimError)) throw err;
      return { problems: [problem(at, `profile file "${ref}": ${err.message}`, err.hint ?? 'fix the problems listed for that file'), ...err.problems] };
    }
  }
  const parsed = inlineProfileRefSchema.safeParse(ref);
  if (!parsed.success) return { problems: [] };
  const base = resolveBase(parsed.data.extends, options.baseDir, lookup, []);
  if ('problems' in base) return { problems: base.problems.flatMap((b) => [problem([...at, 'extends'], b.message, b.hint), ...b.nested]) };
  const merged = overlay(base.loaded, ref, inlineSources(ref, options.origin ?? `${source.file} ${formatPath(at)}`));
  if (merged.issues) {
    const issues = merged.issues.map((i) => ({ ...i, path: [...at, ...i.path] }));
    return { problems: problemsFromIssues(issues, source, options.root) };
  }
  if (merged.problems.length > 0) return { problems: merged.problems.map((p) => problem([...at, ...p.path], p.message, p.hint)) };
  return { problems: [], profile: finish(merged.data, merged.sources).profile };
}

// ---------------------------------------------------------------------------------------------

interface Lookup {
  names(): string[];
  /** The profile of that name; throws its FleetsimError when it is invalid or a cycle is found. */
  byName(name: string, stack: readonly string[]): LoadedProfile | undefined;
}

/** Names resolve in `registry`, else in the shipped profiles (loaded only when a name is used). */
function lookupIn(registry: ProfileRegistry | undefined): Lookup {
  const r = (): ProfileRegistry => registry ?? defaultProfileRegistry();
  return { names: () => r().names(), byName: (name) => r().details(name) };
}

function loadFile(abs: string, lookup: Lookup, stack: readonly string[], expectName?: string): LoadedProfile {
  const label = labelOf(abs);
  const source = new YamlSource(readInputFile(abs, 'profile file', label, 'give a profile name (fleetsim profiles lists them) or the path of a profile YAML file'), label);
  const data = source.readData('profile');
  if (data === null || data === undefined) {
    throw invalid(label, [{ location: { file: label, line: 1, col: 1 }, message: 'the file holds no profile', hint: 'start from one of the profiles in profiles/' }]);
  }
  const isOverlay = isRecord(data) && data.extends !== undefined;
  const schema = isOverlay ? profileOverlaySchema : profileFileSchema;
  const parsed = schema.safeParse(data, { reportInput: true });
  const problems: Problem[] = parsed.success ? [] : problemsFromIssues(parsed.error.issues, source, schema);
  const { sources, missing } = sourceComments(source, data, schema);
  problems.push(...missing);
  const at = (p: DocPath, message: string, hint?: string): Problem => ({ location: source.locate(p), path: formatPath(p), message, hint });
  if (expectName !== undefined && isRecord(data) && typeof data.name === 'string' && data.name !== expectName) {
    problems.push(at(['name'], `name "${data.name}" is not the file's name "${expectName}"`, `rename the file to ${data.name}.yaml or write name: ${expectName}; fleetsim finds profiles by file name`));
  }
  let base: LoadedProfile | undefined;
  if (isOverlay && typeof data.extends === 'string' && data.extends !== '') {
    const r = resolveBase(data.extends, path.dirname(abs), lookup, [...stack, abs]);
    if ('problems' in r) problems.push(...r.problems.flatMap((b) => [at(['extends'], b.message, b.hint), ...b.nested]));
    else base = r.loaded;
  }
  if (problems.length > 0 || !parsed.success) throw invalid(label, sortProblems(problems, label));
  const full = parsed.data as ProfileData;
  const result = base ? overlay(base, parsed.data, sources) : { data: full, sources, issues: undefined, problems: crossFieldProblems(full) };
  if (result.issues) throw invalid(label, problemsFromIssues(result.issues, source, profileFileSchema));
  if (result.problems.length > 0) throw invalid(label, result.problems.map((p) => at(p.path, p.message, p.hint)));
  return finish(result.data, result.sources, abs);
}

type BaseProblem = { message: string; hint: string; nested: Problem[] };

/** The profile `ref` (a name or a path relative to `baseDir`) names, or why it cannot be used. */
function resolveBase(ref: string, baseDir: string, lookup: Lookup, stack: readonly string[]): { loaded: LoadedProfile } | { problems: BaseProblem[] } {
  try {
    if (isProfilePath(ref)) {
      const abs = path.resolve(baseDir, ref);
      if (stack.includes(abs)) throw cycleError([...stack, abs]);
      return { loaded: loadFile(abs, lookup, stack) };
    }
    const loaded = lookup.byName(ref, stack);
    if (loaded) return { loaded };
    return { problems: [{ message: `unknown profile ${quoted(ref)} (FLEETSIM_E_UNKNOWN_PROFILE)`, hint: suggestionHint(ref, lookup.names(), 'known profiles'), nested: [] }] };
  } catch (err) {
    if (!(err instanceof FleetsimError)) throw err;
    return { problems: [{ message: `cannot extend "${ref}": ${err.message}`, hint: err.hint ?? 'fix the problems listed for that profile first', nested: [...err.problems] }] };
  }
}

/** `base` with `overlayData` merged in, checked as a complete profile. */
function overlay(base: LoadedProfile, overlayData: unknown, overlaySources: Record<string, string>) {
  const raw = mergeProfileData(base.data, overlayData);
  if (isRecord(overlayData) && overlayData.name === undefined) raw.name = `${base.profile.name}+override`;
  const sources = { ...base.profile.sources, ...overlaySources };
  const full = profileFileSchema.safeParse(raw, { reportInput: true });
  if (!full.success) return { data: raw as ProfileData, sources, issues: full.error.issues, problems: [] };
  return { data: full.data, sources, issues: undefined, problems: crossFieldProblems(full.data) };
}

/** Inline overrides carry no comments: each overridden field's source is where it was written. */
function inlineSources(ref: unknown, origin: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const leaf of profileLeaves(inlineProfileRefSchema, ref)) if (leaf.path[0] !== 'extends') out[dottedPath(leaf.path)] = origin;
  return out;
}

function finish(data: ProfileData, sources: Record<string, string>, file?: string): LoadedProfile {
  const { $schema: _, ...written } = data;
  return deepFreeze({ profile: toHardwareProfile(written, sources), data: written, ...(file ? { file } : {}) });
}

/** Problems of data that has no positions to give (an inline reference used outside validation). */
function unplaced(issues: readonly z.core.$ZodIssue[], data: unknown, schema: z.ZodType, label: string): Problem[] {
  const source = new YamlSource(stringify(data), label);
  return problemsFromIssues(issues, source, schema).map(({ location: _, ...p }) => p);
}

function invalid(label: string, problems: Problem[]): FleetsimError {
  return new FleetsimError('FLEETSIM_E_PROFILE_INVALID', `${label} is not a valid profile (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
    problems,
    hint: 'the JSON Schema (schema/profile.schema.json) lets your editor flag most of these as you type',
  });
}

function cycleError(chain: readonly string[]): FleetsimError {
  return new FleetsimError('FLEETSIM_E_PROFILE_INVALID', `extends cycle: ${chain.map(labelOf).join(' -> ')}`, { hint: 'a profile cannot extend itself, directly or through others' });
}

function asProblems(e: FleetsimError): Problem[] {
  return e.problems.length > 0 ? [...e.problems] : [{ message: `${e.code}: ${e.message}`, hint: e.hint }];
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = JSON.stringify([p.location, p.path, p.message]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The path as messages show it: relative to the current directory when inside it. */
function labelOf(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** This file's problems first, in file order; problems of other files (a base) after, as they came. */
function sortProblems(problems: Problem[], label: string): Problem[] {
  const own = (p: Problem): number => (p.location?.file === label ? 0 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => own(a.p) - own(b.p) || (own(a.p) === 0 ? (a.p.location!.line - b.p.location!.line || a.p.location!.col - b.p.location!.col) : 0) || a.i - b.i)
    .map(({ p }) => p);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
