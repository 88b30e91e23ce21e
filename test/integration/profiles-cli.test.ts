import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { renderProfileJsonSchema } from '../../src/scenario/profile-schema.js';
import { CLI, runCli } from '../helpers/cli.js';

/** The CLI as users run it: the compiled `dist/cli/main.js` (`npm test` builds first), from the repository root. */
const fleetsim = (...args: string[]) => runCli(args);

describe('fleetsim profiles', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  });

  test('lists every profile with arch, power, default link and projected battery life at 15-minute reports', async () => {
    const r = await fleetsim('profiles');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +ARCH +POWER +LINK +LIFE@15m +DESCRIPTION$/);
    expect(lines.find((l) => l.startsWith('nrf9160-tracker '))).toMatch(/^nrf9160-tracker +armv8-m +battery +nb-iot +5\.9 y +nRF9160 tracker: /);
    expect(lines.find((l) => l.startsWith('rpi4-gateway '))).toMatch(/^rpi4-gateway +arm64 +mains +ethernet +mains +Raspberry Pi 4/);
    expect(lines.filter((l) => /^[a-z0-9]+-[a-z0-9-]+ /.test(l)).map((l) => l.split(' ')[0])).toEqual(['esp32-wifi-sensor', 'jetson-orin-nano-edge', 'lorawan-sensor', 'nrf9160-tracker', 'rpi4-gateway']);
  });

  test('--json gives the same rows as data; --every changes the projection', async () => {
    const r = await fleetsim('profiles', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; defaultLink: string; batteryLifeYears: number | null }>;
    const tracker = rows.find((x) => x.name === 'nrf9160-tracker')!;
    expect(tracker.defaultLink).toBe('nb-iot');
    expect(Math.abs(tracker.batteryLifeYears! - 5.9) / 5.9).toBeLessThan(0.03);
    expect(rows.find((x) => x.name === 'jetson-orin-nano-edge')!.batteryLifeYears).toBeNull();
    const hourly = JSON.parse((await fleetsim('profiles', '--json', '--every', '1h')).stdout) as typeof rows;
    expect(hourly.find((x) => x.name === 'nrf9160-tracker')!.batteryLifeYears!).toBeGreaterThan(tracker.batteryLifeYears! * 2);
  });

  test('show NAME prints every field with its value, unit and source', async () => {
    const r = await fleetsim('profiles', 'show', 'nrf9160-tracker');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^FIELD +VALUE +SOURCE$/m);
    expect(r.stdout).toMatch(/^states\.sleep +8\.2uA@3\.6V = 29\.52 µW +Røstad NTNU 2020: measured PSM floor 29\.52 mC\/h = 8\.2 µA$/m);
    expect(r.stdout).toMatch(/^events\.uplink +28\.76mC@3\.6V = 103\.5 mJ +Røstad NTNU 2020: measured 536 B report/m);
    expect(r.stdout).toMatch(/^power\.battery\.capacity +2\.6Ah +docs\/models\.md reference case/m);
    expect(r.stdout).toMatch(/^cpu\.clock +64MHz +nRF9160 PS$/m);
    expect(r.stdout).toContain('projected battery life: 5.9 y reporting every 15m on nb-iot (the default link)');
  });

  test('show PATH --json (the flag after the name) gives the resolved profile, the fields and the projection', async () => {
    const r = await fleetsim('profiles', 'show', 'test/fixtures/profiles/valid/cloudy-tracker.yaml', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { profile: { name: string; sources: Record<string, string> }; fields: Array<{ field: string; value: string; source?: string }>; batteryLifeYears: number };
    expect(out.profile.name).toBe('cloudy-tracker');
    expect(out.fields.find((f) => f.field === 'power.solar.peakSunHours')).toEqual({ field: 'power.solar.peakSunHours', value: '0.01', source: 'assumed: a site that barely sees the sun' });
    expect(out.batteryLifeYears).toBeGreaterThan(0);
  });

  test('an unknown name exits 2 with the known names and a suggestion, without a stack trace', async () => {
    const r = await fleetsim('profiles', 'show', 'nrf9161-tracker');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error FLEETSIM_E_UNKNOWN_PROFILE: unknown profile "nrf9161-tracker"');
    expect(r.stderr).toContain('hint: did you mean "nrf9160-tracker"? known profiles: esp32-wifi-sensor, jetson-orin-nano-edge, lorawan-sensor, nrf9160-tracker, rpi4-gateway');
    expect(r.stderr).not.toContain('    at ');
  });

  test('an invalid profile file exits 2 with each problem at file:line:col', async () => {
    const r = await fleetsim('profiles', 'show', 'test/fixtures/profiles/invalid/missing-source.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error FLEETSIM_E_PROFILE_INVALID');
    expect(r.stderr).toContain('test/fixtures/profiles/invalid/missing-source.yaml:38:9: states.idle: "37uA@3.6V" has no source comment');
    expect(r.stderr).toContain('hint: add a comment on the same line');
  });

  test('schema --profile prints the committed profile JSON Schema', async () => {
    const r = await fleetsim('schema', '--profile');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderProfileJsonSchema());
  });
});
