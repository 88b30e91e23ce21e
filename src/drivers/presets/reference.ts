import {
  AUTH_SCHEME,
  commandsTopic,
  encodeTelemetry,
  HTTP_PATHS,
  telemetryTopic,
} from '../../wire/reference-protocol.js';
import { FLEET_PATHS, logsTopic, responsesTopic } from '../../wire/fleet-ops.js';
import { isProvisionResponse, isTargetStateResponse, parseJson } from '../../wire/answer-shapes.js';

/**
 * The `reference` preset: how each lifecycle step maps onto the reference fleet protocol that
 * the embedded backend speaks (wire/reference-protocol.ts). A preset for another device API
 * (a real fleet platform) implements the same shape; wire-driver.ts never hard-codes paths.
 */
export interface WirePreset {
  readonly name: string;
  provisionRequest(serial: string, fleetKey: string): { path: string; body: string };
  /** Credentials from a provisioning answer, or undefined when the body is not understood. */
  parseProvision(body: string): { deviceId: string; deviceKey: string } | undefined;
  pollPath(deviceId: string): string;
  /** Whether a 200 answer to a poll has the shape of a target state (else it is a bad response). */
  isTarget(body: string): boolean;
  authorization(deviceKey: string): string;
  telemetryTopic(deviceId: string): string;
  commandsTopic(deviceId: string): string;
  telemetryPayload(seq: number, tsMs: number, size: number): Buffer;
  /** Fleet operations (wire/fleet-ops.ts). */
  statePath(deviceId: string): string;
  artifactPath(artifact: string): string;
  responsesTopic(deviceId: string): string;
  logsTopic(deviceId: string): string;
}

export const referencePreset: WirePreset = {
  name: 'reference',
  provisionRequest: (serial, fleetKey) => ({ path: HTTP_PATHS.provision, body: JSON.stringify({ serial, fleetKey }) }),
  parseProvision(body) {
    // A garbled answer is measured as a bad response, not a crash.
    const r = parseJson(body);
    return isProvisionResponse(r) ? { deviceId: r.deviceId, deviceKey: r.deviceKey } : undefined;
  },
  pollPath: (deviceId) => HTTP_PATHS.target(deviceId),
  isTarget: (body) => isTargetStateResponse(parseJson(body)),
  authorization: (deviceKey) => `${AUTH_SCHEME} ${deviceKey}`,
  telemetryTopic,
  commandsTopic,
  telemetryPayload: encodeTelemetry,
  statePath: (deviceId) => HTTP_PATHS.state(deviceId),
  artifactPath: (artifact) => FLEET_PATHS.artifact(artifact),
  responsesTopic,
  logsTopic,
};

const PRESETS: Record<string, WirePreset> = { reference: referencePreset };

/** Looks a preset up by name (built-ins first; the list is what `target.preset` accepts). */
export function presetByName(name: string): WirePreset | undefined {
  return PRESETS[name];
}
