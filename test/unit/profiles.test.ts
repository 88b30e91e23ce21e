import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { batteryLifeYears } from '../../src/models/battery-life.js';
import { projectedBatteryLifeYears, reportDutyCycle } from '../../src/models/hardware-lifetime.js';
import { energyProfileOf } from '../../src/models/hardware-profile.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { defaultProfileRegistry, loadProfileFile, loadProfileRegistry, resolveProfileRef, resolveProfileRefDetails } from '../../src/scenario/profile-load.js';
import { dottedPath, profileFileSchema, profileLeaves } from '../../src/scenario/profile-schema.js';
import { commentsByLine } from '../../src/scenario/profile-sources.js';

const SHIPPED = ['esp32-wifi-sensor', 'jetson-orin-nano-edge', 'lorawan-sensor', 'nrf9160-tracker', 'rpi4-gateway'];
const INVALID = 'test/fixtures/profiles/invalid';
const VALID = 'test/fixtures/profiles/valid';

function errorOf(f: () => unknown): FleetsimError {
  try {
    f();
  } catch (err) {
    if (err instanceof FleetsimError) return err;
    throw err;
  }
  throw new Error('expected a FleetsimError');
}

describe('shipped profiles', () => {
  const registry = defaultProfileRegistry();

  test('all five load and validate, named after their files', () => {
    expect(registry.names()).toEqual(SHIPPED);
    for (const name of SHIPPED) {
      expect(registry.get(name)?.name).toBe(name);
      expect(registry.details(name)?.file).toBe(path.resolve('profiles', `${name}.yaml`));
    }
  });

  test('each file starts with the yaml-language-server schema line', () => {
    for (const name of SHIPPED) {
      expect(readFileSync(`profiles/${name}.yaml`, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/profile.schema.json');
    }
  });

  test('every numeric field has a source, and every source says something', () => {
    for (const name of SHIPPED) {
      const l = registry.details(name)!;
      const numeric = profileLeaves(profileFileSchema, l.data).filter((leaf) => leaf.kind !== undefined);
      expect(numeric.length).toBeGreaterThanOrEqual(20);
      for (const leaf of numeric) expect([name, dottedPath(leaf.path), (l.profile.sources[dottedPath(leaf.path)]?.length ?? 0) > 3]).toEqual([name, dottedPath(leaf.path), true]);
    }
  });

  test('profiles are deep-frozen (callers share them)', () => {
    const p = registry.get('nrf9160-tracker')!;
    expect(Object.isFrozen(p.power.battery)).toBe(true);
    expect(() => ((p.states as { sleep: number }).sleep = 0)).toThrow(TypeError);
  });

  test('units are converted: currents and charges at a voltage become W and J', () => {
    const p = registry.get('nrf9160-tracker')!;
    expect(p.states.sleep).toBeCloseTo(8.2e-6 * 3.6, 12);
    expect(p.events.uplink).toBeCloseTo(28.76e-3 * 3.6, 12);
    expect(p.events.tau).toBeCloseTo(0.55, 12);
    expect([p.cpu.mhz, p.memory.ramBytes, p.memory.flashBytes, p.bootMs, p.rebootMs]).toEqual([64, 256 * 1024, 1024 * 1024, 1000, 20_000]);
    expect(p.power.battery).toEqual({ chemistry: 'li-socl2', capacityAh: 2.6, voltageV: 3.6, selfDischargePerYear: 0, derating: { temp: 1, rate: 1, cutoff: 0.8 } });
    const esp = registry.get('esp32-wifi-sensor')!;
    expect(esp.power.battery?.capacityAh).toBeCloseTo(3.35, 12);
    expect(registry.get('rpi4-gateway')!.storage.writeBytesPerSec).toBe(10e6);
    expect(registry.get('jetson-orin-nano-edge')!.power.mainsW).toBe(15);
  });
});

describe('battery life from the loaded profiles', () => {
  const tracker = defaultProfileRegistry().get('nrf9160-tracker')!;

  test('nrf9160-tracker reproduces the docs/models.md reference case: ≈5.9 years at 15-minute reports (measured, Røstad 2020)', () => {
    const years = projectedBatteryLifeYears(tracker, 900)!;
    expect(Math.abs(years - 5.9) / 5.9).toBeLessThan(0.03);
    // The same through battery-life.ts directly, from the profile's energy view.
    const e = energyProfileOf(tracker);
    expect(batteryLifeYears({ usableCapacityJ: e.usableCapacityJ, eta: e.eta, selfDischargeW: e.selfDischargeW }, reportDutyCycle(tracker, 900))).toBeCloseTo(years, 12);
  });

  test("charging every report the datasheet's PSM TAU instead gives ≈1.4 years (the other assumption)", () => {
    const usable = energyProfileOf(tracker).usableCapacityJ;
    const years = batteryLifeYears({ usableCapacityJ: usable }, { sleepPowerW: 0, events: [{ name: 'TAU', energyJ: tracker.events.tau!, perDay: 96, durationS: 2.7 }] });
    expect(Math.abs(years - 1.4) / 1.4).toBeLessThan(0.03);
  });

  test('mains profiles never deplete; solar that covers the drain is unlimited; less sun is finite', () => {
    expect(projectedBatteryLifeYears(defaultProfileRegistry().get('rpi4-gateway')!, 900)).toBeUndefined();
    const solar = loadProfileFile(`${VALID}/solar-tracker.yaml`);
    expect(solar.power.source).toBe('battery+solar');
    expect(projectedBatteryLifeYears(solar, 900)).toBe(Infinity);
    const cloudy = loadProfileFile(`${VALID}/cloudy-tracker.yaml`);
    const years = projectedBatteryLifeYears(cloudy, 900)!;
    expect(years).toBeGreaterThan(0.5);
    expect(years).toBeLessThan(10);
  });
});

interface Expected {
  path: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
  /** When the problem is in another file than the fixture (a base it extends). */
  file?: string;
}

/** Every fixture in invalid/, with every problem it must produce. */
const CASES: Record<string, { code?: 'FLEETSIM_E_YAML_SYNTAX'; problems: Expected[] }> = {
  'unknown-key.yaml': { problems: [{ path: 'power.batery', line: 4, col: 3, message: 'unknown key "batery"', hint: 'did you mean "battery"?' }] },
  'bad-unit.yaml': { problems: [{ path: 'states.sleep', line: 4, col: 10, message: '"8.2 uA" is not a power', hint: 'a current at a voltage such as 240mA@3.3V' }] },
  'missing-source.yaml': { problems: [{ path: 'states.idle', line: 38, col: 9, message: '"37uA@3.6V" has no source comment', hint: '# assumed' }] },
  'unknown-link.yaml': { problems: [{ path: 'links[1]', line: 3, col: 17, message: 'unknown link "lte-n"', hint: 'did you mean "lte-m"?' }] },
  'negative-capacity.yaml': { problems: [{ path: 'power.battery.capacity', line: 4, col: 24, message: '"-2.6Ah" must be more than zero', hint: '2.6Ah or 3350mAh' }] },
  'bad-extends.yaml': {
    problems: [{ path: 'extends', line: 2, col: 10, message: 'unknown profile "nrf9161-tracker" (FLEETSIM_E_UNKNOWN_PROFILE)', hint: 'did you mean "nrf9160-tracker"? known profiles: esp32-wifi-sensor' }],
  },
  'extends-missing-file.yaml': { problems: [{ path: 'extends', line: 2, col: 10, message: 'cannot extend "./no-such-board.yaml": profile file test/fixtures/profiles/invalid/no-such-board.yaml does not exist' }] },
  'extends-cycle-a.yaml': {
    problems: [
      { path: 'extends', line: 2, col: 10, message: 'cannot extend "./extends-cycle-b.yaml"' },
      { path: 'extends', line: 2, col: 10, file: 'extends-cycle-b.yaml', message: 'extends cycle: test/fixtures/profiles/invalid/extends-cycle-a.yaml -> test/fixtures/profiles/invalid/extends-cycle-b.yaml -> test/fixtures/profiles/invalid/extends-cycle-a.yaml' },
    ],
  },
  'extends-cycle-b.yaml': {
    problems: [
      { path: 'extends', line: 2, col: 10, message: 'cannot extend "./extends-cycle-a.yaml"' },
      { path: 'extends', line: 2, col: 10, file: 'extends-cycle-a.yaml', message: 'extends cycle' },
    ],
  },
  'mains-without-draw.yaml': { problems: [{ path: 'power', line: 4, col: 3, message: 'a mains-powered profile needs "mains"', hint: 'mains: 3.4W' }] },
  'solar-primary-cell.yaml': { problems: [{ path: 'power.battery.chemistry', line: 4, col: 3, message: 'a li-socl2 cell cannot be recharged by a solar panel', hint: 'li-ion' }] },
  'wrong-type.yaml': { problems: [{ path: 'power.converterEfficiency', line: 4, col: 24, message: 'expected a string, got number 0.9', hint: 'percentage' }] },
  'yaml-syntax.yaml': { code: 'FLEETSIM_E_YAML_SYNTAX', problems: [{ path: '', line: 5, col: 1, message: 'YAML syntax: All mapping items must start at the same column' }] },
  'multiple-errors.yaml': {
    problems: [
      { path: 'cpu.cores', line: 15, col: 10, message: 'must be at least 1, got number 0' },
      { path: 'cpu.clock', line: 16, col: 10, message: '"64 MHz" is not a frequency', hint: '64MHz' },
      { path: 'power.battery.chemistry', line: 26, col: 16, message: '"lithium" is not allowed', hint: 'li-socl2, li-mno2, li-ion' },
      { path: 'states.rx', line: 40, col: 7, message: 'has no source comment' },
      { path: 'events.psm', line: 49, col: 3, message: 'unknown key "psm"', hint: 'allowed here: boot, attach' },
      { path: 'links[2]', line: 50, col: 24, message: 'unknown link "nbiot"', hint: 'did you mean "nb-iot"?' },
    ],
  },
};

describe('invalid profiles: every problem with file:line:col, YAML path, message and hint', () => {
  test('every fixture in invalid/ has expectations, and there are at least 6', () => {
    expect(readdirSync(INVALID).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [file, c] of Object.entries(CASES)) {
    test(file, () => {
      const err = errorOf(() => loadProfileFile(`${INVALID}/${file}`));
      expect(err.code).toBe(c.code ?? 'FLEETSIM_E_PROFILE_INVALID');
      expect(err.exitCode).toBe(2);
      expect(err.problems.length).toBe(c.problems.length);
      c.problems.forEach((want, i) => {
        const got = err.problems[i];
        expect({ file: got.location?.file, line: got.location?.line, col: got.location?.col }).toEqual({ file: `${INVALID}/${want.file ?? file}`, line: want.line, col: want.col });
        expect(got.path ?? '').toBe(want.path);
        expect(got.message).toContain(want.message);
        if (want.hint) expect(got.hint).toContain(want.hint);
      });
    });
  }
});

describe('extends and overrides', () => {
  const base = defaultProfileRegistry().get('nrf9160-tracker')!;

  test('an inline override deep-merges, revalidates and records where each overridden number came from', () => {
    const p = resolveProfileRef({ extends: 'nrf9160-tracker', power: { battery: { capacity: '3.6Ah' } } }, process.cwd(), { origin: 'scenario s.yaml fleet[0].profile' });
    expect(p.name).toBe('nrf9160-tracker+override');
    expect(p.power.battery?.capacityAh).toBe(3.6);
    expect(p.power.battery?.voltageV).toBe(3.6);
    expect(p.states).toEqual(base.states);
    expect(p.sources['power.battery.capacity']).toBe('scenario s.yaml fleet[0].profile');
    expect(p.sources['power.battery.voltage']).toBe(base.sources['power.battery.voltage']);
    expect(base.power.battery?.capacityAh).toBe(2.6); // the shared base is untouched
    expect(projectedBatteryLifeYears(p, 900)!).toBeCloseTo((projectedBatteryLifeYears(base, 900)! * 3.6) / 2.6, 6);
  });

  test('an override that breaks the merged profile, has unknown keys or a bad value is rejected with its path', () => {
    const broken = errorOf(() => resolveProfileRef({ extends: 'rpi4-gateway', power: { source: 'battery' } }, process.cwd()));
    expect([broken.code, broken.problems[0].path, broken.problems[0].message]).toEqual(['FLEETSIM_E_PROFILE_INVALID', 'power', 'power source "battery" needs a "battery"']);
    const unknown = errorOf(() => resolveProfileRef({ extends: 'nrf9160-tracker', power: { batery: {} } }, process.cwd()));
    expect(unknown.problems[0]).toMatchObject({ path: 'power.batery', message: 'unknown key "batery"' });
    expect(unknown.problems[0].hint).toContain('did you mean "battery"?');
    const bad = errorOf(() => resolveProfileRef({ extends: 'nrf9160-tracker', states: { sleep: 3 } }, process.cwd()));
    expect(bad.problems[0]).toMatchObject({ path: 'states.sleep', message: 'expected a string, got number 3' });
    const noBase = errorOf(() => resolveProfileRef({ extends: 'nrf9161-tracker' }, process.cwd()));
    expect(noBase.problems[0].hint).toContain('did you mean "nrf9160-tracker"?');
  });

  test('names, paths relative to the base directory, and chains of files', () => {
    expect(resolveProfileRef('lorawan-sensor', '/nowhere').links).toEqual(['lorawan']);
    const cloudy = resolveProfileRefDetails('./cloudy-tracker.yaml', VALID);
    expect(cloudy.file).toBe(path.resolve(VALID, 'cloudy-tracker.yaml'));
    expect(cloudy.profile.power.solar).toEqual({ peakW: 0.5, peakSunHours: 0.01, k: 0.6 });
    expect(cloudy.profile.sources['power.solar.peakSunHours']).toBe('assumed: a site that barely sees the sun');
    expect(cloudy.profile.sources['power.solar.k']).toContain('Byamukama');
    expect(cloudy.profile.sources['states.sleep']).toContain('Røstad');
    expect(cloudy.profile.description).toBe('nRF9160 tracker on a small solar panel and a Li-ion cell (test fixture)');
    const unknown = errorOf(() => resolveProfileRef('rpi5', '.'));
    expect([unknown.code, unknown.exitCode, unknown.hint]).toEqual(['FLEETSIM_E_UNKNOWN_PROFILE', 2, 'known profiles: esp32-wifi-sensor, jetson-orin-nano-edge, lorawan-sensor, nrf9160-tracker, rpi4-gateway']);
  });
});

describe('a registry of another directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-profiles-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('profiles extend each other by name; a name that is not the file name is an error', () => {
    copyFileSync('profiles/lorawan-sensor.yaml', path.join(dir, 'lorawan-sensor.yaml'));
    writeFileSync(path.join(dir, 'lorawan-sf12.yaml'), 'name: lorawan-sf12\nextends: lorawan-sensor\nevents:\n  uplink: 60mC@3.3V   # assumed: SF12 airtime 1.48 s (AN1200.13)\n');
    const r = loadProfileRegistry(dir);
    expect(r.names()).toEqual(['lorawan-sensor', 'lorawan-sf12']);
    expect(r.get('lorawan-sf12')!.events.uplink).toBeCloseTo(0.198, 12);
    writeFileSync(path.join(dir, 'misnamed.yaml'), 'name: other\nextends: lorawan-sensor\n');
    const err = errorOf(() => loadProfileRegistry(dir));
    expect(err.message).toBe(`1 of 3 profiles in ${dir} are invalid`);
    expect(err.problems[0]).toMatchObject({ path: 'name', message: 'name "other" is not the file\'s name "misnamed"', location: { line: 1, col: 7 } });
    expect(errorOf(() => loadProfileRegistry(path.join(dir, 'none'))).code).toBe('FLEETSIM_E_FILE_NOT_FOUND');
  });

  test('lazy (the shipped registry): a profile is loaded when named, so an invalid one fails only its users', () => {
    const lazyDir = mkdtempSync(path.join(dir, 'lazy-'));
    copyFileSync('profiles/lorawan-sensor.yaml', path.join(lazyDir, 'lorawan-sensor.yaml'));
    writeFileSync(path.join(lazyDir, 'lorawan-sf12.yaml'), 'name: lorawan-sf12\nextends: lorawan-sensor\nevents:\n  uplink: 60mC@3.3V   # assumed: SF12 airtime 1.48 s (AN1200.13)\n');
    writeFileSync(path.join(lazyDir, 'misnamed.yaml'), 'name: other\nextends: lorawan-sensor\n');
    const r = loadProfileRegistry(lazyDir, { lazy: true });
    expect(r.names()).toEqual(['lorawan-sensor', 'lorawan-sf12', 'misnamed']);
    expect(r.get('lorawan-sf12')!.events.uplink).toBeCloseTo(0.198, 12);
    expect(r.get('lorawan-sf12')).toBe(r.require('lorawan-sf12'));
    expect(r.get('nothing')).toBeUndefined();
    const err = errorOf(() => r.get('misnamed'));
    expect([err.code, err.problems[0]?.message]).toEqual(['FLEETSIM_E_PROFILE_INVALID', 'name "other" is not the file\'s name "misnamed"']);
    expect(errorOf(() => r.require('nothing')).code).toBe('FLEETSIM_E_UNKNOWN_PROFILE');
  });
});

describe('scenarios use the profiles', () => {
  const scenario = (profile: string, extra = ''): string => `name: t\nduration: 1m\nfleet:\n  - profile: ${profile}\n    count: 2${extra}\narrival: { rate: 1/s }\n`;

  test('each fleet group carries its resolved hardware; the default link is the profile’s first', () => {
    const s = parseScenarioText(scenario('{ extends: nrf9160-tracker, power: { battery: { capacity: 3.6Ah } } }'));
    expect([s.fleet[0].profile, s.fleet[0].link, s.fleet[0].hardware?.power.battery?.capacityAh]).toEqual(['nrf9160-tracker+override', 'nb-iot', 3.6]);
    expect(s.fleet[0].hardware?.sources['power.battery.capacity']).toBe('scenario <inline> fleet[0].profile');
    expect(structuredClone(s)).toEqual(s);
  });

  test('problems in an inline profile are reported at their place in the scenario', () => {
    const err = errorOf(() => parseScenarioText(scenario('{ extends: nrf9160-tracker, power: { batery: {} } }')));
    expect(err.problems.map((p) => [p.location?.line, p.location?.col, p.path, p.message])).toEqual([[4, 51, 'fleet[0].profile.power.batery', 'unknown key "batery"']]);
    const base = errorOf(() => parseScenarioText(scenario('{ extends: nrf9161-tracker }')));
    expect(base.problems.map((p) => [p.location?.line, p.location?.col, p.path])).toEqual([[4, 25, 'fleet[0].profile.extends']]);
    const merged = errorOf(() => parseScenarioText(scenario('{ extends: rpi4-gateway, power: { source: battery } }')));
    expect(merged.problems[0]).toMatchObject({ path: 'fleet[0].profile.power', message: 'power source "battery" needs a "battery"' });
    const incomplete = errorOf(() => parseScenarioText(scenario('{ extends: rpi4-gateway, power: { source: battery, battery: { capacity: 3Ah } } }')));
    expect(incomplete.problems.map((p) => [p.path, p.message])).toContainEqual(['fleet[0].profile.power.battery.chemistry', 'missing required key "chemistry"']);
    const link = errorOf(() => parseScenarioText(scenario('{ extends: esp32-wifi-sensor }', '\n    link: lte-m')));
    expect(link.problems[0]).toMatchObject({ path: 'fleet[0].link', message: 'esp32-wifi-sensor+override has no lte-m link' });
  });
});

describe('source comments', () => {
  test('a comment belongs to its line; a # inside quotes is not a comment; full-line comments are kept by line', () => {
    const text = '# header\nname: "a # b"\ncap: 2.6Ah  # Saft\nd: { t: 1, r: 2 }   # both\n';
    expect([...commentsByLine(text)]).toEqual([[1, 'header'], [3, 'Saft'], [4, 'both']]);
  });
});
