import { AUTH_SCHEME, commandsTopic, encodeTelemetry, HTTP_PATHS, telemetryTopic } from '../../wire/reference-protocol.js';
import { FLEET_PATHS, logsTopic, responsesTopic, SUPPRESSED_PREFIX, type DeviceMessage as WireMessage } from '../../wire/fleet-ops.js';
import { isProvisionResponse, isTargetStateResponse, parseJson } from '../../wire/answer-shapes.js';
import type { DeviceCredentials, DeviceMessage, MqttUplink, Preset, PresetSettings, TargetAnswer } from '../preset.js';
import type { DeviceCommand } from '../events.js';

/**
 * The `reference` preset: the reference fleet protocol the embedded backend speaks
 * (wire/reference-protocol.ts, wire/fleet-ops.ts). All knowledge of its JSON lives here; the
 * wire driver and device behaviour see only requests, topics and typed events.
 */
export function referencePreset(settings: PresetSettings): Preset {
  const { fleetKey } = settings;
  return {
    name: 'reference',
    provisionRequest: (serial) => ({ method: 'POST', path: HTTP_PATHS.provision, body: JSON.stringify({ serial, fleetKey }) }),
    decodeProvision(body) {
      // A garbled answer is measured as a bad response, not a crash.
      const r = parseJson(body);
      return isProvisionResponse(r) ? { deviceId: r.deviceId, secret: r.deviceKey } : undefined;
    },
    authorization: (creds) => `${AUTH_SCHEME} ${creds.secret}`,
    connectIdentity: (creds) => ({ clientId: creds.deviceId, username: creds.deviceId, password: creds.secret }),
    subscriptions: (creds) => [commandsTopic(creds.deviceId)],
    telemetryTopic: (creds) => telemetryTopic(creds.deviceId),
    telemetryPayload: encodeTelemetry,
    decodeMessage: (_topic, payload) => decodeMessage(payload),
    pollRequest: (creds) => ({ method: 'GET', path: HTTP_PATHS.target(creds.deviceId) }),
    decodePoll,
    stateReport: (creds, report) => ({ method: 'PUT', path: HTTP_PATHS.state(creds.deviceId), body: JSON.stringify(report) }),
    artifactRequest: (creds, artifact) => ({ method: 'GET', path: FLEET_PATHS.artifact(artifact.name), headers: ['x-device-id', creds.deviceId] }),
    commandReply: (creds, command, ok) => responses(creds, `{"type":"command-result","id":${JSON.stringify(command.id)},"issuedAt":${command.issuedAt ?? 0},"ok":${ok}}`),
    configAck: (creds, version) => responses(creds, `{"type":"config-ack","version":${version}}`),
    endOfLineReport: (creds, ok) => responses(creds, `{"type":"eol","ok":${ok}}`),
    logs(creds, suppressed, line, lines) {
      const parts: string[] = [];
      if (suppressed > 0) parts.push(SUPPRESSED_PREFIX + suppressed);
      for (let i = 0; i < lines; i++) parts.push(line);
      return { topic: logsTopic(creds.deviceId), payload: parts.join('\n') };
    },
  };
}

const responses = (creds: DeviceCredentials, payload: string): MqttUplink => ({ topic: responsesTopic(creds.deviceId), payload });

function decodePoll(body: string): TargetAnswer | undefined {
  const t = parseJson(body);
  if (!isTargetStateResponse(t)) return undefined;
  return {
    // The reference backend answers 304 when nothing changed: a 200 is a change.
    changed: true,
    update: t.update,
    // Version 0 is "never configured": nothing to apply.
    config: t.configVersion ? { version: t.configVersion, issuedAt: t.configIssuedAt ?? 0, values: t.config } : undefined,
  };
}

/** Our backends write {"type":...} first: a prefix check spares parsing what the device ignores. */
const TYPE_HEAD = '{"type":"';

function decodeMessage(payload: Buffer): DeviceMessage | undefined {
  if (payload.length <= TYPE_HEAD.length || payload.toString('latin1', 0, TYPE_HEAD.length) !== TYPE_HEAD) return undefined;
  const m = parseJson(payload.toString('utf8')) as Partial<WireMessage> | undefined;
  if (typeof m !== 'object' || m === null) return undefined;
  switch (m.type) {
    case 'update':
      if (typeof m.campaign !== 'string' || !Array.isArray(m.artifacts)) return undefined;
      return { kind: 'update', offer: m as WireMessage & { type: 'update' } };
    case 'config':
      if (typeof m.version !== 'number') return undefined;
      return { kind: 'config', change: { version: m.version, issuedAt: typeof m.issuedAt === 'number' ? m.issuedAt : 0, values: m.config } };
    case 'command': {
      if (typeof m.id !== 'string') return undefined;
      const command: DeviceCommand = { id: m.id, name: typeof m.name === 'string' ? m.name : '', issuedAt: typeof m.issuedAt === 'number' ? m.issuedAt : undefined };
      return { kind: 'command', command };
    }
    default:
      return undefined;
  }
}
