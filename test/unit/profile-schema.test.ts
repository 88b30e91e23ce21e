import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { profileJsonSchema, renderProfileJsonSchema } from '../../src/scenario/profile-schema.js';
import { QUANTITIES, type QuantityKind } from '../../src/scenario/profile-units.js';

type JsonSchema = { anyOf?: JsonSchema[]; properties?: Record<string, JsonSchema>; items?: JsonSchema; pattern?: string; additionalProperties?: unknown; required?: string[]; enum?: string[] };

describe('profile JSON Schema', () => {
  test('schema/profile.schema.json is up to date (regenerate: npm run build && node dist/cli/main.js schema --profile --out schema/profile.schema.json)', () => {
    expect(readFileSync('schema/profile.schema.json', 'utf8')).toBe(renderProfileJsonSchema());
  });

  const [full, overlay] = (profileJsonSchema() as JsonSchema).anyOf!;

  test('a full profile or one that extends another; both strict, so editors flag unknown keys', () => {
    expect(full.required).toEqual(expect.arrayContaining(['name', 'cpu', 'power', 'states', 'events', 'links', 'bootTime']));
    expect(overlay.required).toEqual(['extends', 'name']);
    for (const s of [full, overlay, full.properties!.power, full.properties!.power.properties!.battery, full.properties!.events]) expect(s.additionalProperties).toBe(false);
    expect(full.properties!.links.items!.enum).toContain('nb-iot');
  });
});

describe('profile units', () => {
  const cases: Array<[QuantityKind, Array<[string, number]>, string[]]> = [
    ['power', [['4.5uW', 4.5e-6], ['4.5µW', 4.5e-6], ['0.36W', 0.36], ['2kW', 2000], ['240mA@3.3V', 0.792], ['8.2uA@3.6V', 29.52e-6], ['10mA@3300mV', 0.033]], ['4.5 uW', '240mA', '240mA@3.3', '1MW', 'W', '3.3V']],
    ['energy', [['105mJ', 0.105], ['1.2J', 1.2], ['0.5Wh', 1800], ['28.76mC@3.6V', 0.103536], ['1.5mAh@3.6V', 19.44], ['14.84C@3.6V', 53.424]], ['105 mJ', '28.76mC', '1mW', '2kC@3V']],
    ['charge', [['2.6Ah', 2.6], ['3350mAh', 3.35]], ['2.6 Ah', '2600mA', '2.6kAh', '2.6Wh']],
    ['voltage', [['3.6V', 3.6], ['3300mV', 3.3]], ['3.6 V', '3.6', '3kV']],
    ['frequency', [['64MHz', 64], ['1.5GHz', 1500], ['32768Hz', 0.032768], ['32kHz', 0.032]], ['64 MHz', '64mhz', '64']],
    ['byteRate', [['10MB/s', 10e6], ['40KiB/s', 40960], ['100KB/s', 100e3]], ['10MB', '10 MB/s', '10MB/h']],
    ['size', [['256KiB', 262144], ['1MiB', 1048576], ['32GB', 32e9]], ['256 KiB', '256K']],
    ['percent', [['80%', 0.8], ['0%', 0], ['100%', 1]], ['80', '0.8', '80 %']],
    ['duration', [['300ms', 300], ['1.5s', 1500], ['20s', 20000]], ['1.5 s', '20']],
  ];

  for (const [kind, good, bad] of cases) {
    test(`${kind}: the parser and the editor pattern agree`, () => {
      const q = QUANTITIES[kind];
      const re = new RegExp(q.pattern);
      for (const [text, value] of good) {
        const r = q.parse(text);
        expect([text, re.test(text), r.ok]).toEqual([text, true, true]);
        if (r.ok) expect(r.value).toBeCloseTo(value, 12);
      }
      for (const text of bad) expect([text, re.test(text), q.parse(text).ok]).toEqual([text, false, false]);
      for (const text of q.examples) expect([text, re.test(text), q.parse(text).ok]).toEqual([text, true, true]);
    });
  }

  test('a negative number parses (so validation can say "must be more than zero") but never matches the editor pattern', () => {
    const r = QUANTITIES.charge.parse('-2.6Ah');
    expect(r).toEqual({ ok: true, value: -2.6 });
    expect(new RegExp(QUANTITIES.charge.pattern).test('-2.6Ah')).toBe(false);
  });

  test('values are shown with SI prefixes', () => {
    expect(QUANTITIES.power.format(29.52e-6)).toBe('29.52 µW');
    expect(QUANTITIES.energy.format(0.103536)).toBe('103.5 mJ');
    expect(QUANTITIES.energy.format(0)).toBe('0 J');
    expect(QUANTITIES.size.format(262144)).toBe('256 KiB');
    expect(QUANTITIES.frequency.format(1500)).toBe('1.5 GHz');
  });
});
