import type { MqttUplink, Preset } from '../preset.js';

/** The Preset members of an MQTT session. */
type MqttMembers = 'connectIdentity' | 'subscriptions' | 'telemetryTopic' | 'telemetryPayload' | 'decodeMessage' | 'commandReply' | 'configAck' | 'endOfLineReport' | 'logs';

const INERT: MqttUplink = { topic: '', payload: '' };

/**
 * The MQTT members of a preset whose devices hold no MQTT session with their platform (session
 * 'none': Mender, hawkBit, balena). The wire driver opens no broker transport for such a preset
 * and never calls them; the Preset interface has them, so these answer inertly. Spread into the
 * preset: `{ name, session: 'none', ..., ...HTTP_ONLY_MQTT }`.
 */
export const HTTP_ONLY_MQTT: Pick<Preset, MqttMembers> = {
  connectIdentity: (creds) => ({ clientId: creds.deviceId }),
  subscriptions: () => [],
  telemetryTopic: () => '',
  telemetryPayload: (_seq, _ts, size) => Buffer.alloc(size),
  decodeMessage: () => undefined,
  commandReply: () => INERT,
  configAck: () => INERT,
  endOfLineReport: () => INERT,
  logs: () => INERT,
};
