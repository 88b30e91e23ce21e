import { describe, expect, it } from 'vitest';
import { compileTemplate, type CompiledTemplate } from '../../src/payload/template-compile.js';
import { TemplateFiller } from '../../src/payload/template-filler.js';
import { writeFixed } from '../../src/payload/number-writer.js';
import type { DeviceFieldSource } from '../../src/payload/device-fields.js';
import type { TemplateSpec } from '../../src/payload/template-spec.js';
import { readTelemetrySeq } from '../../src/wire/telemetry-seq.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';

const state: DeviceFieldSource = {
  stateOfCharge: (dev) => 0.5 + dev / 100,
  batteryVolts: (dev) => 3.7 + dev / 1000,
  linkType: () => 'lte-m',
  signalDbm: (dev, seq) => -90 - dev - (seq % 3),
  release: (dev) => (dev === 1 ? 'app-2.0' : 'app-1.0'),
  uptimeMs: (_dev, t) => t,
};

function compiled(spec: TemplateSpec): CompiledTemplate {
  const r = compileTemplate(spec);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.template;
}

function filler(t: CompiledTemplate, seed = 1, firstDevice = 100, devices = 4, st: DeviceFieldSource = state): TemplateFiller {
  return new TemplateFiller(t, { seed, firstDevice, devices, epochMs: 1_700_000_000_000, serialPrefix: 'fleet "a"', state: st });
}

/** Device state that is the same for every device, so fillers of different shard layouts can be compared. */
const sameState: DeviceFieldSource = { ...state, stateOfCharge: () => 0.9, batteryVolts: () => 3.6, signalDbm: (_d, seq) => -80 - (seq % 5), release: () => 'app-1.0' };

const JSON_SPEC: TemplateSpec = {
  json: {
    id: '{{device.serial}}',
    seq: '{{seq}}',
    ts: '{{ts}}',
    up: '{{uptime}}',
    battery: { soc: '{{battery.soc}}', v: '{{battery.voltage}}' },
    link: { type: '{{link.type}}', rssi: '{{link.rssi}}' },
    fw: '{{firmware}}',
    temp: '{{temp}}',
    hum: '{{hum}}',
    pos: ['{{bus.lat}}', '{{bus.lon}}'],
    state: '{{state}}',
    odo: '{{odo}}',
    n: '{{noise}}',
    label: 'temp={{temp}}C on {{link.type}}',
    fixed: [1, true, null, 'x'],
  },
  fields: {
    temp: { kind: 'sine', min: 10, max: 30, periodMs: 86_400_000, phaseMs: 0, decimals: 1 },
    hum: { kind: 'walk', step: 2, min: 20, max: 90, decimals: 2 },
    bus: { kind: 'route', points: [[52.52, 13.405], [52.5, 13.45]], speedMps: 10, loop: false, spread: true, decimals: 6 },
    state: { kind: 'choice', values: ['idle', 'run', 'fault'], weights: [5, 4, 1], decimals: 0 },
    odo: { kind: 'counter', start: 1000, step: 3, decimals: 0 },
    noise: { kind: 'normal', mean: 0, sd: 1, min: -2, max: 2, decimals: 3 },
  },
};

describe('JSON templates', () => {
  const t = compiled(JSON_SPEC);

  it('fill valid JSON with device state, built-ins and generators, and the sequence number can be read back', () => {
    const f = filler(t);
    const bytes = Buffer.from(f.fill(1, 42, 6 * 3_600_000));
    const doc = JSON.parse(bytes.toString('utf8'));
    expect(doc.id).toBe('fleet \\"a\\"-101'.replace(/\\"/g, '"'));
    expect(doc.seq).toBe(42);
    expect(doc.ts).toBe(1_700_000_000_000 + 6 * 3_600_000);
    expect(doc.up).toBe(6 * 3600);
    expect(doc.battery).toEqual({ soc: 51, v: 3.701 });
    expect(doc.link).toEqual({ type: 'lte-m', rssi: -91 });
    expect(doc.fw).toBe('app-2.0');
    // A quarter of the daily period: the top of the sine.
    expect(doc.temp).toBe(30);
    expect(doc.hum).toBeGreaterThanOrEqual(20);
    expect(doc.hum).toBeLessThanOrEqual(90);
    expect(doc.pos[0]).toBeGreaterThanOrEqual(52.5);
    expect(doc.pos[0]).toBeLessThanOrEqual(52.52);
    expect(doc.pos[1]).toBeGreaterThanOrEqual(13.405);
    expect(doc.pos[1]).toBeLessThanOrEqual(13.45);
    expect(['idle', 'run', 'fault']).toContain(doc.state);
    expect(doc.odo).toBe(1000 + 3 * 42);
    expect(Math.abs(doc.n)).toBeLessThanOrEqual(2);
    expect(doc.label).toBe('temp=30.0C on lte-m');
    expect(doc.fixed).toEqual([1, true, null, 'x']);
    expect(readTelemetrySeq(t.seq, bytes)).toBe(42);
  });

  it('is a pure function of (seed, device, seq, time): a fresh filler, another order, a retry give the same bytes', () => {
    const a = filler(t, 1, 100, 4, sameState);
    const inOrder: string[] = [];
    for (let seq = 0; seq < 50; seq++) inOrder.push(a.fill(2, seq, seq * 1000).toString('utf8'));
    expect(a.fill(2, 49, 49_000).toString('utf8')).toBe(inOrder[49]); // a retried message
    const b = filler(t, 1, 100, 4, sameState);
    for (const seq of [30, 7, 49, 0, 12]) expect(b.fill(2, seq, seq * 1000).toString('utf8')).toBe(inOrder[seq]);
    // The same global device in another shard layout.
    const c = filler(t, 1, 102, 1, sameState);
    expect(c.fill(0, 12, 12_000).toString('utf8')).toBe(inOrder[12]);
  });

  it('differs between devices and between seeds', () => {
    const a = filler(t).fill(0, 5, 5000).toString('utf8');
    expect(filler(t).fill(3, 5, 5000).toString('utf8')).not.toBe(a);
    expect(filler(t, 2).fill(0, 5, 5000).toString('utf8')).not.toBe(a);
  });

  it('a random walk moves by at most its step per message and stays within its bounds', () => {
    const f = filler(t);
    let prev: number | undefined;
    for (let seq = 0; seq < 2000; seq++) {
      const hum = JSON.parse(f.fill(0, seq, 0).toString('utf8')).hum as number;
      expect(hum).toBeGreaterThanOrEqual(20);
      expect(hum).toBeLessThanOrEqual(90);
      if (prev !== undefined) expect(Math.abs(hum - prev)).toBeLessThanOrEqual(2.01);
      prev = hum;
    }
  });

  it('choices follow their weights', () => {
    const f = filler(t);
    const counts: Record<string, number> = { idle: 0, run: 0, fault: 0 };
    for (let seq = 0; seq < 5000; seq++) counts[JSON.parse(f.fill(1, seq, 0).toString('utf8')).state]++;
    expect(counts.idle / 5000).toBeCloseTo(0.5, 1);
    expect(counts.run / 5000).toBeCloseTo(0.4, 1);
    expect(counts.fault / 5000).toBeCloseTo(0.1, 1);
  });

  it('a route moves at its speed: 10 m/s covers about 36 km an hour', () => {
    const spec: TemplateSpec = { json: { seq: '{{seq}}', lat: '{{r.lat}}', lon: '{{r.lon}}' }, fields: { r: { kind: 'route', points: [[0, 0], [0, 1]], speedMps: 10, loop: false, spread: false, decimals: 6 } } };
    const f = filler(compiled(spec));
    const at = (ms: number) => JSON.parse(f.fill(0, 0, ms).toString('utf8')) as { lat: number; lon: number };
    // One degree of longitude at the equator is ~111.2 km.
    expect(at(3_600_000).lon).toBeCloseTo(36 / 111.195, 3);
    // There and back again: the far end, then back towards the start.
    const endMs = (111_195 / 10) * 1000;
    expect(at(endMs).lon).toBeCloseTo(1, 3);
    expect(at(endMs + 3_600_000).lon).toBeCloseTo(1 - 36 / 111.195, 3);
  });
});

describe('binary templates', () => {
  const spec: TemplateSpec = {
    binary: [
      { hex: 'a501' },
      { type: 'u32', endian: 'be', value: '{{seq}}', scale: 1 },
      { type: 'i16', endian: 'le', value: '{{t}}', scale: 100 },
      { type: 'u16', endian: 'be', value: '{{battery.voltage}}', scale: 1000 },
      { type: 'u8', endian: 'be', value: 7, scale: 1 },
      { type: 'f32', endian: 'be', value: '{{g.lat}}', scale: 1 },
    ],
    fields: { t: { kind: 'constant', value: -12.34, decimals: 2 }, g: { kind: 'route', points: [[48.1, 11.5]], speedMps: 0, loop: false, spread: false, decimals: 6 } },
  };
  it('lays the values out byte by byte and the backend reads the sequence number at its offset', () => {
    const t = compiled(spec);
    expect(t.binaryBytes).toBe(2 + 4 + 2 + 2 + 1 + 4);
    const b = Buffer.from(filler(t).fill(0, 0x01020304, 0));
    expect(b.subarray(0, 2).toString('hex')).toBe('a501');
    expect(b.readUInt32BE(2)).toBe(0x01020304);
    expect(b.readInt16LE(6)).toBe(-1234);
    expect(b.readUInt16BE(8)).toBe(3700);
    expect(b[10]).toBe(7);
    expect(b.readFloatBE(11)).toBeCloseTo(48.1, 4);
    expect(readTelemetrySeq(t.seq, b)).toBe(0x01020304);
  });
});

describe('template problems', () => {
  it('finds unknown fields, a missing {{seq}}, text in binary, and a bare route, each at its path', () => {
    const r = compileTemplate({ json: { a: '{{nope}}', b: '{{r}}' }, fields: { r: { kind: 'route', points: [[0, 0]], speedMps: 1, loop: false, spread: false, decimals: 6 } } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.path.join('.'), p.message])).toEqual([
      ['json', 'the template does not carry "{{seq}}"'],
      ['json.a', 'unknown field "{{nope}}"'],
      ['json.b', '"{{r}}": a route is read as {{r.lat}} and {{r.lon}}'],
    ]);
    const bin = compileTemplate({ binary: [{ type: 'u8', endian: 'be', value: '{{seq}}', scale: 1 }, { type: 'u8', endian: 'be', value: '{{firmware}}', scale: 1 }], fields: {} });
    expect(bin.ok).toBe(false);
    if (bin.ok) return;
    expect(bin.problems.map((p) => p.message)).toEqual(['the layout must carry {{seq}} once, as u16 or u32 with scale 1', '{{firmware}} is text; a binary entry needs a number']);
  });

  it('a scenario with a bad template fails validation with file:line:col and the YAML path', () => {
    const text = [
      'name: bad-template',
      'duration: 10s',
      'fleet: [{ profile: esp32-wifi-sensor, count: 1 }]',
      'arrival: { rate: 1/s }',
      'behaviour:',
      '  telemetry:',
      '    every: 1s',
      '    template:',
      '      json:',
      '        seq: "{{seq}}"',
      '        temp: "{{tmp}}"',
      '      fields:',
      '        temp: { sine: { min: 30, max: 10, period: 1d } }',
      '        bus: { route: { points: [[1, 2]], speed: fast } }',
    ].join('\n');
    let err: unknown;
    try {
      parseScenarioText(text, 'bad-template.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetsimError);
    const e = err as FleetsimError;
    expect(e.code).toBe('FLEETSIM_E_SCENARIO_INVALID');
    const lines = e.problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.path} ${p.message}`);
    expect(lines).toContainEqual(expect.stringMatching(/^13:\d+ behaviour\.telemetry\.template\.fields\.temp\.sine min 30 is above max 10/));
    expect(lines).toContainEqual(expect.stringMatching(/^14:\d+ behaviour\.telemetry\.template\.fields\.bus\.route\.speed "fast" is not a speed/));
  });

  it('an unknown placeholder is reported at its own line', () => {
    const text = ['name: t', 'duration: 10s', 'fleet: [{ profile: esp32-wifi-sensor, count: 1 }]', 'arrival: { rate: 1/s }', 'behaviour:', '  telemetry:', '    every: 1s', '    template:', '      json:', '        seq: "{{seq}}"', '        temp: "{{tmp}}"'].join('\n');
    let err: FleetsimError | undefined;
    try {
      parseScenarioText(text, 'bad.yaml');
    } catch (e) {
      err = e as FleetsimError;
    }
    expect(err?.problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.path} ${p.message}`)).toEqual(['11:15 behaviour.telemetry.template.json.temp unknown field "{{tmp}}"']);
  });
});

describe('writeFixed', () => {
  it('writes what toFixed writes, without a string', () => {
    const buf = Buffer.alloc(64);
    for (const [v, d] of [[0, 0], [0, 2], [-0.004, 2], [1.005, 2], [-12.5, 0], [123456.789, 3], [0.1, 1], [-3.14159, 4], [99.95, 1], [1e15, 0], [7, 9]] as const) {
      const end = writeFixed(buf, 0, v, d);
      const expected = Math.abs(Math.round(Math.abs(v) * 10 ** d)) === 0 ? (0).toFixed(d) : (Math.sign(v) * Math.round(Math.abs(v) * 10 ** d) / 10 ** d).toFixed(d);
      expect(buf.toString('latin1', 0, end), `${v} ${d}`).toBe(expected);
    }
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, Number.NaN, 2))).toBe('null');
    // Both paths (int32 and wide, e.g. epoch milliseconds) across signs, magnitudes and decimals.
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const d = i % 7;
      const v = ((x / 2147483648 - 0.5) * 10 ** (i % 14)) / (i % 3 === 0 ? 1 : 7);
      const k = Math.round(Math.abs(v) * 10 ** d);
      if (k >= Number.MAX_SAFE_INTEGER) continue; // beyond exact integers both sides approximate
      const expected = k === 0 ? (0).toFixed(d) : ((Math.sign(v) * k) / 10 ** d).toFixed(d);
      expect(buf.toString('latin1', 0, writeFixed(buf, 0, v, d)), `${v} ${d}`).toBe(expected);
    }
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, 1_767_225_617_000, 0))).toBe('1767225617000');
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, 2_147_483_647, 0))).toBe('2147483647');
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, 2_147_483_648, 0))).toBe('2147483648');
  });
});
