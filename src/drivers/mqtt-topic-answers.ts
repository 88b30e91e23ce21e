import type { DeviceCredentials, HttpRequestSpec, MqttAnswer, MqttProvisioning, MqttUplink, Preset } from './preset.js';
import { BAD_RESPONSE } from './types.js';

/**
 * The reserved-topic convention of a preset with `requestsOver: 'mqtt'` (AWS IoT, drivers/preset.ts):
 * a request is a QoS 1 publish of its `body` to its `path`; its answer is the next message on
 * `<path>/accepted` (200 with that payload) or `<path>/rejected` (the preset's `rejectedStatus`).
 * drivers/mqtt-requests.ts runs these exchanges as it runs a protocol file's: this file only
 * translates the convention.
 */

/** A request spec as the publish that carries it. */
export function topicUplink(r: HttpRequestSpec): MqttUplink {
  return { topic: r.path, payload: r.body ?? '{}', qos: 1 };
}

/** The request topic `topic` answers and whether it accepted it; undefined when it is no answer. */
export function answerOf(topic: string): { readonly request: string; readonly accepted: boolean } | undefined {
  const slash = topic.lastIndexOf('/');
  const kind = topic.slice(slash + 1);
  if (kind !== 'accepted' && kind !== 'rejected') return undefined;
  return { request: topic.slice(0, slash), accepted: kind === 'accepted' };
}

/** The HTTP-like status of an answer: 200 when accepted, else the preset's reading of the rejection (400 by default). */
export function answerStatus(preset: Preset, accepted: boolean, body: string): number {
  return accepted ? 200 : (preset.rejectedStatus?.(body) ?? 400);
}

/**
 * Provisioning by claim in the reserved-topic convention (`provisionIdentity`,
 * `provisionSubscriptions`, `provisionRequest`, `provisionStep`), as the MqttProvisioning that
 * drivers/mqtt-requests.ts runs: each accepted step is the exchange's `next` (the wait starts
 * again), the last one its credentials. The session's client certificate is the run's (the claim
 * certificate); mqtt-requests.ts adds it, by device.
 *
 * Per provisioning in progress it keeps the topic answered next and what the steps carried, by
 * serial (the exchange hears the serial, not the device): provisioning is once per device, off
 * the hot path.
 */
export function claimProvisioning(preset: Preset, timeoutMs: number): MqttProvisioning {
  const waiting = new Map<string, { topic: string; carried: Readonly<Record<string, string>> }>();
  return {
    timeoutMs,
    session: (serial) => preset.provisionIdentity!(serial),
    subscriptions: () => preset.provisionSubscriptions ?? [],
    request(serial) {
      const r = preset.provisionRequest(serial);
      waiting.set(serial, { topic: r.path, carried: {} });
      return topicUplink(r);
    },
    decode(topic, payload, serial): MqttAnswer<DeviceCredentials> | undefined {
      const w = waiting.get(serial);
      const a = answerOf(topic);
      if (w === undefined || a === undefined || a.request !== w.topic) return undefined;
      const body = payload.toString('utf8');
      if (!a.accepted) {
        waiting.delete(serial);
        return { status: answerStatus(preset, false, body) };
      }
      const step = preset.provisionStep!(body, serial, w.carried);
      if (step !== undefined && !('credentials' in step)) {
        w.topic = step.next.path;
        w.carried = step.carry;
        return { status: 200, next: topicUplink(step.next) };
      }
      waiting.delete(serial);
      return step === undefined ? { status: BAD_RESPONSE } : { status: 200, value: step.credentials };
    },
  };
}
