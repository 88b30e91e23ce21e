import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';

const INVALID = 'test/fixtures/scenarios/invalid';
const VALID = 'test/fixtures/scenarios/valid';

interface Expected {
  /** YAML path as fleetsim prints it ('(top level)' for the document itself). */
  path: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
}
interface Case {
  code?: 'FLEETSIM_E_SCENARIO_INVALID' | 'FLEETSIM_E_YAML_SYNTAX';
  problems: Expected[];
}

/** Every fixture in invalid/ with every problem it must produce: message fragment, line:col and YAML path. */
const CASES: Record<string, Case> = {
  'unknown-top-level-key.yaml': { problems: [{ path: 'colour', line: 3, col: 1, message: 'unknown key "colour"', hint: 'allowed here: $schema, name' }] },
  'unknown-nested-key.yaml': { problems: [{ path: 'behaviour.telemtry', line: 7, col: 3, message: 'unknown key "telemtry"', hint: 'did you mean "telemetry"?' }] },
  'bad-duration.yaml': { problems: [{ path: 'behaviour.telemetry.every', line: 8, col: 12, message: '"10 s" is not a duration', hint: '500ms, 10s, 2m' }] },
  'unknown-profile.yaml': { problems: [{ path: 'fleet[1].profile', line: 5, col: 14, message: 'unknown profile "rpi5"', hint: 'known profiles: esp32-wifi-sensor, jetson-orin-nano-edge' }] },
  'negative-count.yaml': { problems: [{ path: 'fleet[0].count', line: 5, col: 12, message: 'must be at least 1, got number -5' }] },
  'qos-2.yaml': { problems: [{ path: 'behaviour.telemetry.qos', line: 7, col: 32, message: 'number 2 is not allowed', hint: 'use one of: 0, 1' }] },
  'bad-rate.yaml': { problems: [{ path: 'arrival.rate', line: 6, col: 9, message: '"20 per second" is not a rate', hint: '20/s, 300/m' }] },
  'bad-percent.yaml': { problems: [{ path: 'behaviour.poll.jitter', line: 9, col: 13, message: '"150%" is more than 100%', hint: 'between 0% and 100%' }] },
  'threshold-syntax.yaml': {
    problems: [{ path: 'thresholds["provision.latency"][1]', line: 9, col: 7, message: 'unknown aggregate "p99" (FLEETSIM_E_THRESHOLD_SYNTAX)', hint: 'write p(99)' }],
  },
  'threshold-unknown-metric.yaml': {
    problems: [{ path: 'thresholds["provision.latncy"]', line: 8, col: 3, message: 'unknown metric "provision.latncy" (FLEETSIM_E_UNKNOWN_METRIC)', hint: 'did you mean "provision.latency"? known metrics: devices.powered_on' }],
  },
  'yaml-syntax.yaml': { code: 'FLEETSIM_E_YAML_SYNTAX', problems: [{ path: '', line: 5, col: 1, message: 'YAML syntax: Flow map in block collection', hint: 'every [ or { is closed' }] },
  'empty-fleet.yaml': { problems: [{ path: 'fleet', line: 3, col: 8, message: 'must not be empty', hint: 'fleet: [{ profile: rpi4-gateway, count: 10 }]' }] },
  'wrong-type-count.yaml': { problems: [{ path: 'fleet[0].count', line: 4, col: 37, message: 'expected a number, got "forty"', hint: 'a whole number of devices' }] },
  'missing-name.yaml': { problems: [{ path: 'name', line: 2, col: 1, message: 'missing required key "name"' }] },
  'bad-target-scheme.yaml': { problems: [{ path: 'target.http', line: 4, col: 9, message: 'scheme "ftp" is not http or https', hint: 'https://host:port' }] },
  'multiple-errors.yaml': {
    problems: [
      { path: 'duration', line: 2, col: 11, message: '"2 minutes" is not a duration', hint: '500ms, 10s, 2m' },
      { path: 'fleet[0].profile', line: 4, col: 16, message: 'unknown profile "rpi5"' },
      { path: 'fleet[1].count', line: 5, col: 42, message: 'must be at least 1, got number 0' },
      { path: 'behaviour.telemetry.qos', line: 8, col: 33, message: 'number 2 is not allowed' },
      { path: 'behaviour.pol', line: 9, col: 3, message: 'unknown key "pol"', hint: 'did you mean "poll"?' },
      { path: 'thresholds["telemetry.lst"]', line: 12, col: 3, message: 'unknown metric "telemetry.lst"', hint: 'did you mean "telemetry.lost"?' },
    ],
  },
  'duplicate-key.yaml': { code: 'FLEETSIM_E_YAML_SYNTAX', problems: [{ path: '', line: 6, col: 1, message: 'Map keys must be unique', hint: 'only once' }] },
  'update-steps-not-increasing.yaml': { problems: [{ path: 'phases[0].update.rollout.steps', line: 11, col: 42, message: 'steps must increase and end at 100%', hint: 'steps: [1%, 10%, 100%]' }] },
  'update-abort-if-syntax.yaml': { problems: [{ path: 'phases[0].update.abortIf', line: 8, col: 53, message: '"failures > 5%" is not an abort rule', hint: 'failure_rate > 5%' }] },
  'update-constant-without-rate.yaml': { problems: [{ path: 'phases[0].update.rollout', line: 11, col: 16, message: 'strategy constant needs "rate"', hint: 'rate: 100/m' }] },
  'backend-bad-operation.yaml': {
    problems: [
      { path: 'backend.connect', line: 7, col: 12, message: 'takes "servers" or "capacity", not both', hint: 'capacity: 400/s' },
      { path: 'backend.poll.service', line: 8, col: 20, message: 'a lognormal service time takes "p50" and "p99", not "p50"', hint: 'p99: 200ms' },
      { path: 'backend.poll.servers', line: 8, col: 69, message: 'must be at least 1, got number 0', hint: 'from 1 to 100000' },
      { path: 'backend.provision.queue', line: 9, col: 16, message: 'an operation with unlimited servers never queues', hint: 'servers: 8' },
    ],
  },
  'backend-lockstep-range.yaml': { problems: [{ path: 'backend.lockstep', line: 7, col: 13, message: 'lockstep 20s is outside 1ms to 10s', hint: 'lockstep: 100ms' }] },
  'provisioning-manual-without-rate.yaml': { problems: [{ path: 'provisioning', line: 6, col: 15, message: 'manual provisioning needs "approvalRate"', hint: 'approvalRate: 50/s' }] },
  'logs-rate-as-number.yaml': { problems: [{ path: 'behaviour.logs.rate', line: 7, col: 17, message: 'expected a string, got number 5', hint: '20/s' }] },
  'phase-two-kinds.yaml': { problems: [{ path: 'phases[1]', line: 9, col: 5, message: 'a phase has exactly one kind, not update and outage' }] },
  'ramp-without-over.yaml': { problems: [{ path: 'arrival', line: 6, col: 3, message: '"over" is missing', hint: 'over: 30s' }] },
  'link-not-supported.yaml': { problems: [{ path: 'fleet[0].link', line: 4, col: 51, message: 'esp32-wifi-sensor has no lte-m link', hint: 'supports: wifi' }] },
  'threshold-mismatch.yaml': { problems: [{ path: 'thresholds["telemetry.failed"][0]', line: 7, col: 22, message: 'p(99) does not apply to telemetry.failed (a counter)', hint: 'count, rate' }] },
  'external-target-missing-mqtt.yaml': { problems: [{ path: 'target', line: 3, col: 9, message: 'an external target needs "mqtt"' }] },
  'threshold-not-a-list.yaml': { problems: [{ path: 'thresholds["provision.latency"]', line: 7, col: 22, message: 'expected a list, got "p(99) < 500ms"', hint: '["p(99) < 500ms"]' }] },
  'fault-phase-after-end.yaml': { problems: [{ path: 'phases[1].at', line: 7, col: 11, message: 'the phase starts at 20s, when the run (duration: 10s) has ended, so it would never happen', hint: 'start it before the end of the run' }] },
  'fault-phase-problems.yaml': {
    problems: [
      { path: 'phases[0].backend.broker', line: 6, col: 26, message: 'a broker restart needs target: { mqtt: local-mosquitto }' },
      { path: 'phases[1].backend.http', line: 7, col: 32, message: 'an http fault does one thing, not status and reset' },
      { path: 'phases[2].scope.profile', line: 8, col: 42, message: 'no fleet group has profile "nope"', hint: "the fleet's profiles: rpi4-gateway" },
      { path: 'phases[2].backend.http.retryAfter', line: 8, col: 69, message: '"retryAfter" goes with "status"' },
    ],
  },
  'fault-tls.yaml': {
    problems: [
      { path: 'phases[0].backend.http', line: 7, col: 35, message: 'the fault proxy cannot see into TLS: http faults act on routes and answers', hint: 'plain-text endpoint' },
      { path: 'phases[1].backend.mqtt.refuse', line: 8, col: 43, message: 'through TLS the fault proxy cannot read MQTT packets, so it cannot inject CONNACK refusals', hint: 'disconnect or blackhole' },
      { path: 'phases[2].scope', line: 9, col: 24, message: 'through TLS the fault proxy cannot tell devices apart', hint: 'give the fault a share' },
    ],
  },
  'zero-duration.yaml': { problems: [{ path: 'duration', line: 2, col: 11, message: '"0s" must be more than zero' }] },
  'duration-as-number.yaml': { problems: [{ path: 'duration', line: 2, col: 11, message: 'expected a string, got number 60', hint: '500ms, 10s, 2m' }] },
  'target-misspelt.yaml': { problems: [{ path: 'target', line: 3, col: 9, message: 'target must be "embedded" or an object', hint: 'target: embedded' }] },
  'empty-file.yaml': { problems: [{ path: '', line: 1, col: 1, message: 'the file holds no scenario' }] },
  'keepalive-fraction.yaml': { problems: [{ path: 'behaviour.keepalive', line: 7, col: 14, message: 'not a whole number of seconds', hint: '65535s' }] },
  'reconnect-cap-below-base.yaml': { problems: [{ path: 'behaviour.reconnect.cap', line: 7, col: 32, message: 'reconnect cap 5s is below its base 10s', hint: 'make cap at least base' }] },
  'missing-arrival.yaml': { problems: [{ path: 'arrival', line: 1, col: 1, message: 'missing required key "arrival"' }] },
};

function loadError(file: string): FleetsimError {
  try {
    loadScenario(file);
  } catch (err) {
    if (err instanceof FleetsimError) return err;
    throw err;
  }
  throw new Error(`${file} loaded without an error`);
}

describe('invalid scenarios: every problem with file:line:col, YAML path, message and hint', () => {
  test('every fixture in invalid/ has expectations, and there are at least 20', () => {
    const files = readdirSync(INVALID).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(Object.keys(CASES).sort());
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const [name, c] of Object.entries(CASES)) {
    test(name, () => {
      const file = path.join(INVALID, name);
      const err = loadError(file);
      expect(err.code).toBe(c.code ?? 'FLEETSIM_E_SCENARIO_INVALID');
      expect(err.exitCode).toBe(2);
      expect(err.problems).toHaveLength(c.problems.length);
      c.problems.forEach((want, i) => {
        const got = err.problems[i];
        expect({ file: got.location?.file, line: got.location?.line, col: got.location?.col }).toEqual({ file, line: want.line, col: want.col });
        expect(got.path ?? '').toBe(want.path);
        expect(got.message).toContain(want.message);
        if (want.hint) expect(got.hint).toContain(want.hint);
      });
    });
  }
});

describe('valid scenarios', () => {
  for (const name of readdirSync(VALID).filter((f) => f.endsWith('.yaml'))) {
    test(`${name} loads`, () => {
      const s = loadScenario(path.join(VALID, name));
      expect(s.devices).toBe(s.fleet.reduce((a, g) => a + g.count, 0));
      expect(s.devices).toBeGreaterThan(0);
    });
  }
  for (const name of ['quickstart.yaml', 'smoke.yaml']) {
    test(`scenarios/${name} loads and points editors at the schema`, async () => {
      const { readFileSync } = await import('node:fs');
      const text = readFileSync(path.join('scenarios', name), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/scenario.schema.json');
      expect(loadScenario(path.join('scenarios', name)).name).toBe(name.replace('.yaml', ''));
    });
  }
});

describe('loading', () => {
  test('a missing file is FLEETSIM_E_FILE_NOT_FOUND (exit 2)', () => {
    const err = loadError(path.join(INVALID, 'no-such-file.yaml'));
    expect(err.code).toBe('FLEETSIM_E_FILE_NOT_FOUND');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('does not exist');
  });

  test('a directory is not a scenario', () => {
    expect(loadError(INVALID).message).toContain('is a directory');
  });

  test('parseScenarioText labels problems with the given file name', () => {
    try {
      parseScenarioText('name: x\nduration: 1s\nfleet: []\narrival: { rate: 1/s }\n', 'inline.yaml');
      expect.unreachable();
    } catch (err) {
      expect((err as FleetsimError).problems[0].location).toEqual({ file: 'inline.yaml', line: 3, col: 8 });
    }
  });

  test('backend: on the wall clock is refused at its key, whether the file or --clock picks the clock', () => {
    const base = 'name: x\nduration: 1s\nfleet: [{ profile: rpi4-gateway, count: 1 }]\narrival: { rate: 1/s }\n';
    const sized = 'backend:\n  connect: { servers: 4 }\n';
    const problemsOf = (text: string, o?: Parameters<typeof parseScenarioText>[2]) => {
      try {
        parseScenarioText(text, 'x.yaml', o);
      } catch (err) {
        return (err as FleetsimError).problems;
      }
      return [];
    };
    for (const [text, o, said] of [
      [base + sized, undefined, 'the default wall clock'],
      [base + 'clock: wall\n' + sized, undefined, 'clock: wall'],
      [base + 'clock: virtual\n' + sized, { clock: 'wall' as const }, '--clock wall'],
    ] as const) {
      const p = problemsOf(text, o);
      expect(p).toHaveLength(1);
      expect(p[0].path).toBe('backend');
      expect(p[0].location).toEqual({ file: 'x.yaml', line: text.split('\n').indexOf('backend:') + 1, col: 1 });
      expect(p[0].message).toContain(`this run is on the wall clock (${said})`);
      expect(p[0].hint).toContain('--clock virtual');
    }
    expect(problemsOf(base + sized, { clock: 'virtual' })).toEqual([]);
    expect(problemsOf(base + 'clock: virtual\n' + sized)).toEqual([]);
    // lifetime: follows the same clock: --clock virtual makes a wall-clock file's lifetime valid, --clock wall refuses it.
    const life = 'lifetime: { years: 1, production: [{ startMonth: 0, months: 1, perMonth: 1, group: 0 }] }\n';
    expect(problemsOf(base + life, { clock: 'virtual' }).filter((q) => q.path === 'lifetime')).toEqual([]);
    expect(problemsOf(base + 'clock: virtual\n' + life, { clock: 'wall' }).map((q) => q.path)).toContain('lifetime');
  });

  test('bad command-line overrides are usage errors', () => {
    const text = 'name: x\nduration: 1s\nfleet: [{ profile: rpi4-gateway, count: 1 }]\narrival: { rate: 1/s }\n';
    const usage = (o: Parameters<typeof parseScenarioText>[2]) => {
      try {
        parseScenarioText(text, 'x.yaml', o);
      } catch (err) {
        return (err as FleetsimError).code;
      }
      return 'ok';
    };
    expect(usage({ duration: '10 s' })).toBe('FLEETSIM_E_USAGE');
    expect(usage({ seed: Number('abc') })).toBe('FLEETSIM_E_USAGE');
    expect(usage({ clock: 'fast' as 'wall' })).toBe('FLEETSIM_E_USAGE');
    expect(usage({ workers: 0 })).toBe('FLEETSIM_E_USAGE');
    expect(usage({ duration: '5s', seed: 9, clock: 'virtual', workers: 2 })).toBe('ok');
  });
});
