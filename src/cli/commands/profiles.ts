import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { projectedBatteryLifeYears } from '../../models/hardware-lifetime.js';
import type { HardwareProfile } from '../../models/hardware-profile.js';
import { parseDuration } from '../../models/units.js';
import { defaultProfileRegistry, resolveProfileRefDetails, type LoadedProfile } from '../../scenario/profile-load.js';
import { dottedPath, profileFileSchema, profileLeaves } from '../../scenario/profile-schema.js';
import { QUANTITIES } from '../../scenario/profile-units.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * `fleetsim profiles` lists the shipped hardware profiles with their projected battery life;
 * `fleetsim profiles show NAME|PATH` prints one profile field by field with the source of every
 * number.
 */

const DEFAULT_EVERY = '15m';

interface Flags {
  json?: boolean;
  every?: string;
}

export function register(program: Command): void {
  const profiles = program
    .command('profiles')
    .description(COMMAND_LISTING.profiles.summary)
    .option('--json', 'print JSON')
    .option('--every <duration>', 'report interval of the battery-life projection', DEFAULT_EVERY)
    .action((flags: Flags) => {
      const every = reportEvery(flags.every);
      const registry = defaultProfileRegistry();
      const rows = registry.names().map((n) => listRow(registry.details(n)!, every.ms));
      process.stdout.write(flags.json ? JSON.stringify(rows, null, 2) + '\n' : formatList(rows, every));
    });
  profiles
    .command('show')
    .description('print one profile: every field, its value with unit, and its source')
    .argument('<profile>', 'a profile name (fleetsim profiles lists them) or the path of a profile YAML file')
    .option('--json', 'print JSON')
    .option('--every <duration>', 'report interval of the battery-life projection', DEFAULT_EVERY)
    .action((ref: string, _flags: Flags, cmd: Command) => {
      // Options given after `show` may be parsed by `profiles`, which has the same ones.
      const flags = cmd.optsWithGlobals<Flags>();
      const every = reportEvery(flags.every);
      const loaded = resolveProfileRefDetails(ref, process.cwd());
      const fields = fieldRows(loaded);
      const lifeYears = life(loaded.profile, every.ms);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ profile: loaded.profile, file: loaded.file, fields, reportEveryMs: every.ms, batteryLifeYears: lifeYears }, null, 2) + '\n');
        return;
      }
      process.stdout.write(formatShow(loaded, fields, every));
    });
}

/** The report interval of the projection: milliseconds, and the text to show. */
interface Every {
  ms: number;
  text: string;
}

function reportEvery(flag: string | undefined): Every {
  const text = flag ?? DEFAULT_EVERY;
  const r = parseDuration(text);
  if (!r.ok) throw new FleetsimError('FLEETSIM_E_USAGE', `--every ${r.message}`, { hint: r.hint });
  if (r.value <= 0) throw new FleetsimError('FLEETSIM_E_USAGE', `--every "${text}" must be more than zero`, { hint: 'e.g. --every 15m' });
  return { ms: r.value, text };
}

/** Years, 'unlimited' when a harvester covers the drain, null for mains power. */
type Life = number | 'unlimited' | null;

function life(p: HardwareProfile, everyMs: number): Life {
  const y = projectedBatteryLifeYears(p, everyMs / 1000);
  if (y === undefined) return null;
  return Number.isFinite(y) ? Number(y.toFixed(3)) : 'unlimited';
}

function formatLife(l: Life): string {
  if (l === null) return 'mains';
  if (l === 'unlimited') return 'unlimited (solar)';
  return l >= 1 ? `${l.toFixed(1)} y` : `${Math.round(l * 365.25)} d`;
}

interface ListRow {
  name: string;
  arch: string;
  powerSource: HardwareProfile['power']['source'];
  defaultLink: string;
  links: string[];
  batteryLifeYears: Life;
  description: string;
  file?: string;
}

function listRow(l: LoadedProfile, everyMs: number): ListRow {
  const p = l.profile;
  return { name: p.name, arch: p.cpu.arch, powerSource: p.power.source, defaultLink: p.links[0], links: [...p.links], batteryLifeYears: life(p, everyMs), description: p.description, file: l.file };
}

function formatList(rows: ListRow[], every: Every): string {
  const table = [
    ['NAME', 'ARCH', 'POWER', 'LINK', `LIFE@${every.text}`, 'DESCRIPTION'],
    ...rows.map((r) => [r.name, r.arch, r.powerSource, r.defaultLink, formatLife(r.batteryLifeYears), r.description]),
  ];
  const note = `\nLIFE: projected battery life reporting every ${every.text} on the default link (closed form; \`fleetsim profiles show NAME\` for the figures and their sources).\n`;
  return alignTable(table) + note;
}

interface FieldRow {
  field: string;
  /** As written in the profile. */
  value: string;
  /** The value in the unit fleetsim computes with, when it differs from what is written. */
  resolved?: string;
  source?: string;
}

function fieldRows(l: LoadedProfile): FieldRow[] {
  return profileLeaves(profileFileSchema, l.data).map((leaf) => {
    const field = dottedPath(leaf.path);
    const value = Array.isArray(leaf.value) ? leaf.value.join(', ') : String(leaf.value);
    const source = l.profile.sources[field];
    // A current or charge at a voltage (or watt-hours) is shown in the W or J fleetsim computes with.
    const converted = (leaf.kind === 'power' || leaf.kind === 'energy') && /@|Wh/.test(value);
    const parsed = converted ? QUANTITIES[leaf.kind as 'power' | 'energy'].parse(value) : undefined;
    const resolved = parsed?.ok ? QUANTITIES[leaf.kind as 'power' | 'energy'].format(parsed.value) : undefined;
    return { field, value, ...(resolved ? { resolved } : {}), ...(source ? { source } : {}) };
  });
}

function formatShow(l: LoadedProfile, fields: FieldRow[], every: Every): string {
  const p = l.profile;
  const head = [`${p.name}: ${p.description}`, ...(l.file ? [`file: ${l.file}`] : [])];
  // Name and description head the output; the table is every other field.
  const rows = fields.filter((f) => f.field !== 'name' && f.field !== 'description');
  const table = [['FIELD', 'VALUE', 'SOURCE'], ...rows.map((f) => [f.field, f.resolved ? `${f.value} = ${f.resolved}` : f.value, f.source ?? ''])];
  const lifeText = formatLife(life(p, every.ms));
  const foot = p.power.source === 'mains' ? 'mains powered: never depletes' : `projected battery life: ${lifeText} reporting every ${every.text} on ${p.links[0]} (the default link)`;
  return `${head.join('\n')}\n\n${alignTable(table)}\n${foot}\n`;
}

/** Columns padded to their widest cell; the last column is not padded. */
function alignTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c] - [...cell].length))).join('  ').trimEnd()).join('\n') + '\n';
}
