import { describe, expect, test } from 'vitest';
import { declarativePreset } from '../../src/drivers/presets/declarative.js';
import { loadProtocolFile } from '../../src/scenario/protocol-load.js';
import { parseProtocolText } from '../../src/scenario/protocol-load.js';

/** The declarative preset over protocols/example.yaml: what it sends and how it reads answers and messages. */
const example = loadProtocolFile('protocols/example.yaml');
const preset = declarativePreset(example.data, example.secrets)({ fleetKey: 'pk-1' });
const header = (h: readonly string[] | undefined, name: string) => {
  const i = (h ?? []).findIndex((x, j) => j % 2 === 0 && x === name);
  return i < 0 ? undefined : h![i + 1];
};

describe('declarative preset (protocols/example.yaml)', () => {
  test('provisioning: path, common and route headers, JSON body with a bare number', () => {
    const r = preset.provisionRequest('fleet-7');
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/api/v2/enrollments');
    expect(header(r.headers, 'x-provisioning-key')).toBe('pk-1');
    expect(header(r.headers, 'x-acme-client')).toBe('fleetsim');
    const body = JSON.parse(r.body!);
    expect(body).toMatchObject({ hardwareSerial: 'fleet-7', model: 'fleetsim-sim' });
    expect(typeof body.requestedAt).toBe('number');
  });

  test('credentials from the answer, expiry brought forward by renewBefore; a garbled answer is undefined', () => {
    const before = Date.now();
    const c = preset.decodeProvision(JSON.stringify({ thing: { id: 'th-1' }, auth: { accessToken: 'tok', expiresInSec: 20 } }), 'fleet-7')!;
    expect(c).toMatchObject({ deviceId: 'th-1', secret: 'tok', extra: { serial: 'fleet-7' } });
    expect(c.expiresAtMs! - before).toBeGreaterThanOrEqual(18_000 - 5);
    expect(c.expiresAtMs! - Date.now()).toBeLessThanOrEqual(18_000);
    expect(preset.decodeProvision('<html>', 'fleet-7')).toBeUndefined();
    expect(preset.decodeProvision(JSON.stringify({ thing: { id: 'th-1' }, auth: {} }), 'fleet-7')).toBeUndefined();
    expect(preset.authorization(c)).toBe('Bearer tok');
    expect(preset.reauthStatuses).toEqual([401]);
  });

  const creds = { deviceId: 'th-1', secret: 'tok', extra: { serial: 'fleet-7' } };

  test('MQTT identity and topics from templates', () => {
    expect(preset.connectIdentity(creds)).toEqual({ clientId: 'acme-fleet-7', username: 'th-1', password: 'tok' });
    expect(preset.telemetryTopic(creds)).toBe('acme/fleet-7/up');
    expect(preset.subscriptions(creds)).toEqual(['acme/fleet-7/down/+']);
  });

  test('version polling: the version goes in the query, no If-None-Match, 204 is unchanged, the same version is unchanged', () => {
    expect(preset.pollRequest(creds, undefined).path).toBe('/api/v2/things/th-1/desired?have=');
    expect(preset.pollRequest(creds, '7').path).toBe('/api/v2/things/th-1/desired?have=7');
    expect(preset.sendIfNoneMatch).toBe(false);
    expect(preset.unchangedStatuses).toEqual([204]);
    const answer = {
      revision: 8,
      firmware: { version: '2.0.0', deployment: 'dep-2', url: '/api/v2/blobs/2.0.0', bytes: 4096, sha256: 'ab'.repeat(32) },
      settings: { reportEverySec: '30', level: 3 },
      settingsRevision: 4,
      pollAfterSec: 10,
    };
    const t = preset.decodePoll(JSON.stringify(answer), '7')!;
    expect(t).toMatchObject({ changed: true, etag: '8', nextPollMs: 10_000, config: { version: 4, values: { reportEverySec: '30', level: '3' } } });
    expect(t.update).toEqual({ campaign: 'dep-2', release: '2.0.0', target: 'app', artifacts: [{ name: '/api/v2/blobs/2.0.0', url: '/api/v2/blobs/2.0.0', kind: 'full', size: 4096, sha256: 'ab'.repeat(32) }] });
    expect(preset.decodePoll(JSON.stringify({ ...answer, firmware: null }), '8')).toMatchObject({ changed: false, etag: '8' });
    expect(preset.decodePoll(JSON.stringify({ ...answer, firmware: null }), '8')!.update).toBeUndefined();
    expect(preset.decodePoll(JSON.stringify({ ...answer, revision: { x: 1 } }), '8')).toBeUndefined();
    expect(preset.decodePoll('[1,2]', '8')).toBeUndefined();
  });

  test('commands carry their correlation id from the topic; replies go to a topic that names it', () => {
    const m = preset.decodeMessage('acme/fleet-7/down/c-42', Buffer.from(JSON.stringify({ op: 'exec', cmd: 'diag', at: 1700, args: { deep: true } })));
    expect(m).toEqual({ kind: 'command', command: { id: 'c-42', name: 'diag', issuedAt: 1700, args: { deep: true } } });
    const r = preset.commandReply(creds, { id: 'c-42', name: 'diag' }, true);
    expect(r.topic).toBe('acme/fleet-7/down/c-42/ack');
    expect(r.qos).toBe(1);
    expect(JSON.parse(String(r.payload))).toMatchObject({ ok: true, cmd: 'diag' });
    const s = preset.decodeMessage('acme/fleet-7/down/5', Buffer.from(JSON.stringify({ op: 'settings', settings: { a: 'b' }, settingsRevision: 5 })));
    expect(s).toEqual({ kind: 'config', change: { version: 5, issuedAt: 0, values: { a: 'b' } } });
    const ack = preset.configAck(creds, 5);
    expect([ack.topic, JSON.parse(String(ack.payload))]).toEqual(['acme/fleet-7/down/5/ack', { settingsRevision: 5, ok: true }]);
    expect(preset.decodeMessage('acme/fleet-7/down/c-1', Buffer.from('not json'))).toBeUndefined();
    expect(preset.decodeMessage('acme/fleet-7/down/c-1', Buffer.from(JSON.stringify({ op: 'unknown' })))).toBeUndefined();
  });

  test('state reports and logs', () => {
    const r = preset.stateReport(creds, { release: '2.0.0', status: 'downloading', campaign: 'dep-2', bytes: 512 });
    expect(r.path).toBe('/api/v2/things/th-1/reports');
    expect(JSON.parse(r.body!)).toEqual({ fw: '2.0.0', phase: 'downloading', deployment: 'dep-2', error: '', downloaded: 512 });
    const l = preset.logs(creds, 2, 'boot ok', 3);
    expect([l.topic, l.qos, String(l.payload).split('\n')]).toEqual(['acme/fleet-7/log', 0, ['suppressed 2', 'boot ok', 'boot ok', 'boot ok']]);
  });
});

describe('declarative preset: other auth schemes', () => {
  const protocol = (auth: string) =>
    parseProtocolText(
      `name: p
auth: ${auth}
http:
  provision: { path: /p, body: { s: "{{serial}}" }, answer: { token: key } }
  poll: { path: "/t/{{deviceId}}" }
  state: { path: "/s/{{deviceId}}" }
mqtt: { topics: { telemetry: { topic: "t/{{deviceId}}" } } }
`,
      'inline.yaml',
      '/tmp/inline.yaml',
    );
  const creds = { deviceId: 'd1', secret: 'k1', extra: { serial: 's1' } };

  test('basic: username and password templates', () => {
    const p = protocol('{ scheme: basic, username: "{{deviceId}}", password: "{{token}}" }');
    expect(declarativePreset(p.data, p.secrets)({ fleetKey: 'f' }).authorization(creds)).toBe(`Basic ${Buffer.from('d1:k1').toString('base64')}`);
  });

  test('header: a header of its own on device requests, none on provisioning; the MQTT client id defaults to the device id', () => {
    const p = protocol('{ scheme: header, header: { name: X-Device-Key, value: "{{token}}" } }');
    const preset = declarativePreset(p.data, p.secrets)({ fleetKey: 'f' });
    expect(preset.authorization(creds)).toBeUndefined();
    expect(header(preset.pollRequest(creds).headers, 'x-device-key')).toBe('k1');
    expect(header(preset.provisionRequest('s1').headers, 'x-device-key')).toBeUndefined();
    expect(preset.connectIdentity(creds)).toEqual({ clientId: 'd1' });
  });

  test('a secret in a template is read at load and used, never echoed in problems', () => {
    process.env.FLEETSIM_TEST_PROTO_SECRET = 'hunter2';
    const p = parseProtocolText(
      `name: p
auth: { scheme: none }
http:
  headers: { x-api-key: "\${env:FLEETSIM_TEST_PROTO_SECRET}" }
  provision: { path: /p }
  poll: { path: "/t/{{deviceId}}" }
  state: { path: "/s/{{deviceId}}" }
mqtt: { topics: { telemetry: { topic: "t/{{deviceId}}" } } }
`,
      'inline.yaml',
      '/tmp/inline.yaml',
    );
    delete process.env.FLEETSIM_TEST_PROTO_SECRET;
    const preset = declarativePreset(p.data, p.secrets)({ fleetKey: 'f' });
    expect(header(preset.provisionRequest('s1').headers, 'x-api-key')).toBe('hunter2');
    expect(JSON.stringify(p.data)).not.toContain('hunter2');
  });
});
