import { parse, stringify } from 'yaml';

/**
 * A seeded mutation fuzzer for fleetsim's YAML inputs: mutated copies of the shipped files, tried
 * as a new user (or a hostile one) would write them. Deterministic per seed, so a failing case is
 * reproduced by its seed alone.
 */

/** mulberry32: small, fast and good enough to pick mutations; one stream per case. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Values that broke or strained fleetsim: extremes of numbers and of each unit, and odd types. */
const EXTREME_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, 1e21, 1.7976931348623157e308, -1e308, 1e-300, 0.5, -0];
const EXTREME_STRINGS = [
  '0.000000001ms',
  '0.000001ms',
  `${'9'.repeat(400)}s`,
  `${'9'.repeat(30)}ms`,
  '260000000000000ms',
  '1ms',
  '100y',
  '101y',
  '0s',
  '0ms',
  '1e5s',
  '-5s',
  '0%',
  '100%',
  '100.0000001%',
  `${'9'.repeat(400)}%`,
  '0/s',
  '1000000000/s',
  `${'9'.repeat(400)}/s`,
  '0B',
  '2GiB',
  `${'9'.repeat(400)}B`,
  '1gbit',
  '',
  ' ',
  '~',
  'null',
  'true',
  '.inf',
  '.nan',
];
const UNICODE = ['🚀', 'Ω≈ç√', '\u200b', '\u202e', 'e\u0301', '日本語', '\u0000', '\ufeff', '\\', '"', "'", '{{', '}}', '${env:NOPE}', '${file:/etc/shadow}', '%s%n', '<script>'];

/** Every path to a value in `data`, with its parent and key. */
function slots(data: unknown): Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> {
  const out: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) node.forEach((v, i) => (out.push({ parent: node, key: i }), stack.push(v)));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) out.push({ parent: node as Record<string, unknown>, key: k }), stack.push(v);
  }
  return out;
}

function set(slot: { parent: Record<string, unknown> | unknown[]; key: string | number }, v: unknown): void {
  (slot.parent as Record<string | number, unknown>)[slot.key] = v;
}

function nested(depth: number, leaf: unknown, asList: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asList ? [v] : { a: v };
  return v;
}

/** Mutations of the data, each named so that a failure says what was done. */
const DATA_MUTATIONS: Record<string, (r: Rand, data: unknown) => void> = {
  deleteKey(r, data) {
    const s = slots(data).filter((x) => !Array.isArray(x.parent));
    if (s.length) {
      const slot = pick(r, s);
      delete (slot.parent as Record<string, unknown>)[slot.key as string];
    }
  },
  swapType(r, data) {
    const s = slots(data);
    if (s.length) set(pick(r, s), pick(r, [1, 'x', [], {}, null, true, [1, 2], { k: 'v' }, 3.5]));
  },
  extremeNumber(r, data) {
    const s = slots(data);
    if (s.length) set(pick(r, s), pick(r, EXTREME_NUMBERS));
  },
  extremeUnit(r, data) {
    const s = slots(data).filter((x) => typeof (x.parent as Record<string | number, unknown>)[x.key] === 'string');
    if (s.length) set(pick(r, s), pick(r, EXTREME_STRINGS));
  },
  hugeString(r, data) {
    const s = slots(data);
    if (s.length) set(pick(r, s), pick(r, ['x', 'rpi4-gateway', '1s', '🚀']).repeat(1 + Math.floor(r() * 3000)));
  },
  hugeKey(r, data) {
    const s = slots(data).filter((x) => !Array.isArray(x.parent));
    if (s.length) (pick(r, s).parent as Record<string, unknown>)['k'.repeat(1 + Math.floor(r() * 3000))] = 1;
  },
  deepNesting(r, data) {
    const s = slots(data);
    if (s.length) set(pick(r, s), nested(1 + Math.floor(r() * 120), 'x', r() < 0.5));
  },
  unknownKey(r, data) {
    const s = slots(data).filter((x) => !Array.isArray(x.parent));
    if (s.length) {
      const slot = pick(r, s);
      (slot.parent as Record<string, unknown>)[`${String(slot.key)}${pick(r, ['', 's', 'x', '_'])}${pick(r, UNICODE)}`] = pick(r, [1, 'x', {}]);
    }
  },
  unicode(r, data) {
    const s = slots(data).filter((x) => typeof (x.parent as Record<string | number, unknown>)[x.key] === 'string');
    if (s.length) {
      const slot = pick(r, s);
      set(slot, `${String((slot.parent as Record<string | number, unknown>)[slot.key])}${pick(r, UNICODE)}`);
    }
  },
  manyItems(r, data) {
    const s = slots(data).filter((x) => Array.isArray((x.parent as Record<string | number, unknown>)[x.key]));
    if (s.length) {
      const slot = pick(r, s);
      const list = (slot.parent as Record<string | number, unknown[]>)[slot.key];
      if (list.length) set(slot, Array.from({ length: pick(r, [2, 100, 256, 257]) }, () => structuredClone(list[0])));
    }
  },
};

/**
 * Mutations of the text: what a data round trip cannot produce. Sizes stay small enough for
 * thousands of cases a minute; the largest inputs (20,000 keys, 2 MB names, 145,000 syntax
 * errors) have their own timed tests (test/unit/bad-input-yaml.test.ts).
 */
const TEXT_MUTATIONS: Record<string, (r: Rand, text: string) => string> = {
  duplicateLine(r, text) {
    const lines = text.split('\n');
    const i = Math.floor(r() * lines.length);
    lines.splice(i, 0, lines[i]);
    return lines.join('\n');
  },
  deleteLine(r, text) {
    const lines = text.split('\n');
    lines.splice(Math.floor(r() * lines.length), 1);
    return lines.join('\n');
  },
  truncate: (r, text) => text.slice(0, Math.floor(r() * text.length)),
  insertChars(r, text) {
    const at = Math.floor(r() * text.length);
    return text.slice(0, at) + pick(r, ['[', ']', '{', '}', ':', '- ', '\t', '"', "'", '&a ', '*a', '!!binary ', '? ', '|', '>', '#', '%YAML 1.1\n', '---\n', '...\n', '\r', ...UNICODE]) + text.slice(at);
  },
  undefinedAlias(r, text) {
    const lines = text.split('\n');
    const i = lines.findIndex((l, j) => j >= Math.floor(r() * lines.length) && /:\s+\S/.test(l) && !l.trim().startsWith('#'));
    if (i >= 0) lines[i] = lines[i].replace(/:\s+.*$/, ': *nope');
    return lines.join('\n');
  },
  aliasBomb(r, text) {
    const width = 2 + Math.floor(r() * 9);
    const rows = [`zz0: &zz0 [${Array(width).fill('"lol"').join(',')}]`];
    for (let i = 1; i < 2 + Math.floor(r() * 8); i++) rows.push(`zz${i}: &zz${i} [${Array(width).fill(`*zz${i - 1}`).join(',')}]`);
    return `${text}\n${rows.join('\n')}\n`;
  },
  aliasReuse(r, text) {
    // An anchor on the first mapping value, used again in place of a later one: valid YAML, odd data.
    const lines = text.split('\n');
    const a = lines.findIndex((l) => /^\w+:\s+\S/.test(l));
    const b = lines.findIndex((l, j) => j > a && /^\w+:\s+\S/.test(l) && r() < 0.5);
    if (a < 0 || b < 0) return text;
    lines[a] = lines[a].replace(/:\s+/, ': &x ');
    lines[b] = lines[b].replace(/:\s+.*$/, ': *x');
    return lines.join('\n');
  },
  deepFlow: (r, text) => `${text}\nzz: ${'['.repeat(50 + Math.floor(r() * 1000))}\n`,
  deepBlock: (r, text) => `${text}\n${'- '.repeat(50 + Math.floor(r() * 1500))}x\n`,
  manyUnknownKeys: (r, text) => text + Array.from({ length: 1 + Math.floor(r() * 300) }, (_, i) => `zk${i}: ${i}\n`).join(''),
  manySyntaxErrors: (r, text) => text + 'x: {a: 1}}\n'.repeat(1 + Math.floor(r() * 200)),
  tooLarge: (_r, text) => `${text}\n# ${'x'.repeat(300_000)}\n`,
};

export const MUTATION_NAMES = [...Object.keys(DATA_MUTATIONS), ...Object.keys(TEXT_MUTATIONS)];

export interface Mutant {
  seed: number;
  text: string;
  /** The mutations applied, in order. */
  applied: string[];
}

/** One to three mutations of `seedText`, chosen by `seed`. */
export function mutate(seedText: string, seed: number): Mutant {
  const r = rng(seed);
  const applied: string[] = [];
  let text = seedText;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const name = pick(r, MUTATION_NAMES);
    applied.push(name);
    if (name in TEXT_MUTATIONS) {
      text = TEXT_MUTATIONS[name](r, text);
      continue;
    }
    let data: unknown;
    try {
      data = parse(text, { maxAliasCount: 100 });
    } catch {
      continue; // already broken text: later data mutations have nothing to work on
    }
    if (data === null || typeof data !== 'object') continue;
    DATA_MUTATIONS[name](r, data);
    text = stringify(data, { aliasDuplicateObjects: false, lineWidth: 0 });
  }
  return { seed, text, applied };
}
