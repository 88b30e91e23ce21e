import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { renderProtocolJsonSchema } from '../../src/protocol/schema.js';
import { compileBody, compileTemplate, renderTemplate } from '../../src/protocol/template.js';
import { compileJsonPath, readJsonPath } from '../../src/protocol/json-path.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { loadProtocolFile } from '../../src/scenario/protocol-load.js';

function errorOf(f: () => unknown): FleetsimError {
  try {
    f();
  } catch (e) {
    if (e instanceof FleetsimError) return e;
    throw e;
  }
  throw new Error('expected a FleetsimError');
}

const BROKEN = 'test/fixtures/protocols/broken.yaml';

describe('protocol files', () => {
  test('schema/protocol.schema.json is up to date (regenerate: npm run docs)', () => {
    expect(readFileSync('schema/protocol.schema.json', 'utf8')).toBe(renderProtocolJsonSchema());
  });

  test('protocols/example.yaml is valid, with its defaults filled in', () => {
    const { data } = loadProtocolFile('protocols/example.yaml');
    expect(data.name).toBe('acme-things');
    expect(data.auth).toMatchObject({ scheme: 'bearer', renewBefore: '2s', reauthenticate: [401] });
    expect(data.http.poll).toMatchObject({ sendVersion: 'none', unchanged: [204] });
    expect(data.mqtt.topics.logs).toEqual({ topic: 'acme/{{serial}}/log', qos: 0 });
  });

  test('a broken file reports every problem at once, each at its line:col with YAML path and hint (exit 2)', () => {
    delete process.env.FLEETSIM_TEST_UNSET_SECRET;
    const e = errorOf(() => loadProtocolFile(BROKEN));
    expect(e.code).toBe('FLEETSIM_E_PROTOCOL_INVALID');
    expect(e.exitCode).toBe(2);
    const got = e.problems.map((p) => [`${p.location?.line}:${p.location?.col}`, p.path, p.message]);
    expect(got).toEqual([
      ['1:7', 'name', '"Broken Name" is not a protocol name'],
      ['3:11', 'auth.scheme', 'a bearer scheme needs the token from provisioning'],
      ['4:3', 'auth.tokenLifetme', 'unknown key "tokenLifetme"'],
      ['8:42', 'http.provision.body.token', '{{token}} is not known here'],
      ['10:13', 'http.poll.method', '"FETCH" is not allowed'],
      ['13:16', 'http.poll.answer.version', '"rev..x" is not a JSON path'],
      ['17:13', 'mqtt.clientId', 'unknown field {{serail}}'],
      ['18:13', 'mqtt.password', 'environment variable FLEETSIM_TEST_UNSET_SECRET is not set (FLEETSIM_E_SECRET_MISSING)'],
      ['21:41', 'mqtt.topics.logs.qos', 'number 2 is not allowed'],
      ['23:5', 'mqtt.topics.replies', 'replies need to know which command they answer'],
    ]);
    expect(e.problems.every((p) => p.location?.file === BROKEN && p.hint)).toBe(true);
    expect(e.problems[2].hint).toContain('did you mean "tokenLifetime"?');
  });

  test('a scenario whose preset is a broken protocol file fails validation with the protocol file\'s own file:line:col', () => {
    const e = errorOf(() => loadScenario('test/fixtures/protocols/scenario-broken-protocol.yaml'));
    expect(e.code).toBe('FLEETSIM_E_SCENARIO_INVALID');
    expect(e.exitCode).toBe(2);
    const [first, ...rest] = e.problems;
    expect(first.location).toMatchObject({ file: 'test/fixtures/protocols/scenario-broken-protocol.yaml', line: 9 });
    expect(first.path).toBe('target.preset');
    expect(first.message).toContain('is not a valid protocol file (10 problems)');
    expect(rest).toHaveLength(10);
    expect(rest.every((p) => p.location?.file === BROKEN)).toBe(true);
  });

  test('target.preset takes every built-in by name (thingsboard resolves as itself) and names them for a typo', () => {
    const text = (preset: string) => `name: builtins
duration: 10s
arrival: { rate: 10/s }
fleet:
  - { profile: rpi4-gateway, count: 2 }
target: { http: http://127.0.0.1:1, mqtt: mqtt://127.0.0.1:1, preset: ${preset} }
`;
    const s = parseScenarioText(text('thingsboard'), 'builtins.yaml');
    expect(s.target.kind === 'external' && s.target.preset).toEqual({ kind: 'builtin', name: 'thingsboard' });
    const e = errorOf(() => parseScenarioText(text('thingsbord'), 'builtins.yaml'));
    expect(e.problems.map((p) => [p.path, p.location?.line, p.message])).toEqual([['target.preset', 6, 'unknown preset "thingsbord"']]);
    expect(e.problems[0].hint).toContain('did you mean "thingsboard"?');
  });

  test('a secret in a template is read once and never kept in the template text', () => {
    const t = compileTemplate('Key ${env:ACME_KEY} for {{serial}}', (ref) => (ref.name === 'ACME_KEY' ? 's3cr3t' : ''));
    expect(renderTemplate(t, { serial: 'dev-7' })).toBe('Key s3cr3t for dev-7');
    expect(t.uses).toEqual(new Set(['serial']));
  });

  test('a JSON body escapes strings, and "{{field}}" of a number becomes a bare value', () => {
    const t = compileBody({ serial: '{{serial}}', at: '{{ts}}', note: 'x {{cause}}', n: 3 }, () => '');
    expect(JSON.parse(renderTemplate(t, { serial: 'a"b', ts: 1700, cause: 'c\nd' }))).toEqual({ serial: 'a"b', at: 1700, note: 'x c\nd', n: 3 });
    expect(JSON.parse(renderTemplate(t, { serial: 's' }))).toEqual({ serial: 's', at: null, note: 'x ', n: 3 });
  });

  test('JSON paths read nested fields and list items, and answer undefined past the document', () => {
    const doc = { a: { b: [{ c: 5 }] } };
    expect(readJsonPath(doc, compileJsonPath('$.a.b[0].c'))).toBe(5);
    expect(readJsonPath(doc, compileJsonPath('a.b[1].c'))).toBeUndefined();
    expect(readJsonPath('text', compileJsonPath('a'))).toBeUndefined();
  });
});

describe('request/response over MQTT in protocol files', () => {
  test('protocols/example-mqtt.yaml is valid: provisioning, polls and state over MQTT, logs over HTTP', () => {
    const { data } = loadProtocolFile('protocols/example-mqtt.yaml');
    expect(data.http.provision).toBeUndefined();
    expect(data.mqtt.provision?.response).toMatchObject({ correlation: { in: 'topic' }, timeout: '10s' });
    expect(data.mqtt.poll?.response).toMatchObject({ correlation: { in: 'payload', path: 'rid' }, unchanged: [304] });
    expect(data.mqtt.state?.qos).toBe(1);
    expect(data.http.logs?.method).toBe('POST');
  });

  test('mistakes are reported at once, each at its line:col: a step described twice or not at all, ids that cannot be found, fields a request cannot know, unknown keys', () => {
    const file = 'test/fixtures/protocols/broken-mqtt-requests.yaml';
    const e = errorOf(() => loadProtocolFile(file));
    expect(e.code).toBe('FLEETSIM_E_PROTOCOL_INVALID');
    const got = e.problems.map((p) => [`${p.location?.line}:${p.location?.col}`, p.path, p.message]);
    expect(got).toEqual([
      ['3:1', 'http', 'no state route'],
      ['5:3', 'http.logs', 'logs are described twice, in http.logs and mqtt.topics.logs'],
      ['5:57', 'http.logs.body.who', '{{correlationId}} is not known here'],
      ['8:5', 'mqtt.provision', 'templates use {{token}} but the provisioning answer does not say where the token is'],
      ['8:87', 'mqtt.provision.request.payload.token', '{{token}} is not known here'],
      ['11:20', 'mqtt.provision.response.correlation', 'the correlation id is said to be in the topic, and no level of the response topic is {{correlationId}}'],
      ['12:16', 'mqtt.provision.response.timeout', '"soon" is not a duration'],
      ['14:3', 'mqtt.poll', 'poll is described twice, in http.poll and mqtt.poll'],
      ['16:17', 'mqtt.poll.response.topic', 'the response topic carries {{correlationId}}, and correlation does not say so'],
      ['16:58', 'mqtt.poll.response.answr', 'unknown key "answr"'],
    ]);
    expect(e.problems.every((p) => p.location?.file === file && p.hint)).toBe(true);
  });
});
