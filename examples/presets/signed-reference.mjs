// A module preset (target.preset: ./signed-reference.mjs): fleetsim's reference protocol, written
// from its description (src/wire/reference-protocol.ts) in plain JavaScript, with one thing a
// protocol file cannot say: every request with a body carries an HMAC-SHA256 signature of it
// (x-body-signature), keyed with the fleet key. docs/presets.md describes each member.
import { createHmac } from 'node:crypto';

/** @param {{ fleetKey: string }} settings */
export default function createPreset(settings) {
  const sign = (body) => ['x-body-signature', createHmac('sha256', settings.fleetKey).update(body).digest('hex')];
  const post = (method, path, value) => {
    const body = JSON.stringify(value);
    return { method, path, body, headers: sign(body) };
  };
  const parse = (text) => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  const topic = (creds, leaf) => `fleet/${creds.deviceId}/${leaf}`;
  const uplink = (creds, value) => ({ topic: topic(creds, 'responses'), payload: JSON.stringify(value) });
  return {
    name: 'signed-reference',
    provisionRequest: (serial) => post('POST', '/v1/provision', { serial, fleetKey: settings.fleetKey }),
    decodeProvision(body) {
      const r = parse(body);
      return typeof r?.deviceId === 'string' && typeof r?.deviceKey === 'string' ? { deviceId: r.deviceId, secret: r.deviceKey } : undefined;
    },
    authorization: (creds) => `Device ${creds.secret}`,
    connectIdentity: (creds) => ({ clientId: creds.deviceId, username: creds.deviceId, password: creds.secret }),
    subscriptions: (creds) => [topic(creds, 'commands')],
    telemetryTopic: (creds) => topic(creds, 'telemetry'),
    telemetryPayload(seq, tsMs, size) {
      const head = `{"seq":${seq},"ts":${Math.floor(tsMs)},"pad":"`;
      return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - 2)) + '"}');
    },
    decodeMessage(_topic, payload) {
      const m = parse(payload.toString('utf8'));
      if (m?.type === 'command' && typeof m.id === 'string') return { kind: 'command', command: { id: m.id, name: String(m.name ?? ''), issuedAt: m.issuedAt } };
      if (m?.type === 'config' && typeof m.version === 'number') return { kind: 'config', change: { version: m.version, issuedAt: m.issuedAt ?? 0, values: m.config } };
      return undefined;
    },
    pollRequest: (creds) => ({ method: 'GET', path: `/v1/devices/${encodeURIComponent(creds.deviceId)}/target` }),
    decodePoll(body) {
      const t = parse(body);
      if (typeof t?.release !== 'string' || typeof t?.etag !== 'string') return undefined;
      return { changed: true, ...(t.configVersion ? { config: { version: t.configVersion, issuedAt: t.configIssuedAt ?? 0, values: t.config } } : {}) };
    },
    stateReport: (creds, report) => post('PUT', `/v1/devices/${encodeURIComponent(creds.deviceId)}/state`, report),
    artifactRequest: (_creds, artifact) => ({ method: 'GET', path: `/v1/artifacts/${encodeURIComponent(artifact.name)}` }),
    commandReply: (creds, command, ok) => uplink(creds, { type: 'command-result', id: command.id, issuedAt: command.issuedAt ?? 0, ok }),
    configAck: (creds, version) => uplink(creds, { type: 'config-ack', version }),
    endOfLineReport: (creds, ok) => uplink(creds, { type: 'eol', ok }),
    logs: (creds, suppressed, line, lines) => ({ topic: topic(creds, 'logs'), payload: [...(suppressed > 0 ? [`suppressed ${suppressed}`] : []), ...Array(lines).fill(line)].join('\n') }),
  };
}
