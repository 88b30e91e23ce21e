import type { ConfigChange, OfferedArtifact, UpdateOffer } from '../events.js';
import { isObject, paddedJson, parseObject as parse } from './json.js';
import type { DeviceCredentials, DeviceMessage, HttpRequestSpec, MqttUplink, Preset, PresetSettings, ProvisionStep, TargetAnswer } from '../preset.js';

/**
 * The `aws-iot` preset: a device on AWS IoT Core over MQTT with mutual TLS (docs/presets/aws-iot.md
 * has the page behind each topic). Every request is an MQTT exchange on a reserved topic
 * (`requestsOver: 'mqtt'`, drivers/mqtt-requests.ts):
 *
 * - provisioning by claim, on a session of its own with the claim certificate (client ID = serial):
 *   CreateKeysAndCertificate, then RegisterThing with the ownership token and `SerialNumber`;
 *   the device then connects with the issued certificate as its thing (client ID = thing name);
 * - the poll is StartNextPendingJobExecution, also made whenever the session comes up (the
 *   device workflow); notify-next pushes the next job; the job document (fleetsim's, below)
 *   names the file by a presigned URL with its size and SHA-256;
 * - state reports are UpdateJobExecution (IN_PROGRESS with the step, SUCCEEDED, FAILED) with
 *   `expectedVersion` once the execution's version is known (retried once with the version a
 *   VersionMismatch answer carries), and the release reported to the
 *   shadow on success; configuration arrives as a shadow delta and is acknowledged as reported state.
 *
 * The fleet key is the provisioning template's name (the claim certificate is the secret, given as
 * the run's client certificate). AWS IoT Core has no commands in this API set: none arrive.
 */

/** The shadow key carrying the configuration version (the preset's convention; shadows have no config version of their own). */
export const CONFIG_VERSION_KEY = 'configVersion';
/** The shadow key the device reports its release in. */
export const RELEASE_KEY = 'release';
/** Where the preset keeps a job execution's version in the credentials (`jobVersion:<jobId>`). */
const VERSION_PREFIX = 'jobVersion:';

/** fleetsim update statuses → UpdateJobExecution status (the step itself goes in statusDetails). */
function jobStatus(status: string): string {
  if (status === 'success') return 'SUCCEEDED';
  if (status === 'failed' || status === 'rolled-back') return 'FAILED';
  return 'IN_PROGRESS';
}

/** Rejection codes of the Jobs API (and the shadow's numeric codes) → the status the driver acts on. */
const REJECTED_STATUS: Record<string, number> = {
  InvalidTopic: 400, InvalidJson: 400, InvalidRequest: 400, ResourceNotFound: 404, VersionMismatch: 409,
  InvalidStateTransition: 410, TerminalStateReached: 410, RequestThrottled: 429, InternalError: 500,
};

export function awsIotPreset(settings: PresetSettings): Preset {
  const templateName = settings.fleetKey;
  const register = `$aws/provisioning-templates/${templateName}/provision/json`;
  const thing = (c: DeviceCredentials) => c.deviceId;
  const jobs = (c: DeviceCredentials) => `$aws/things/${thing(c)}/jobs`;
  const shadowUpdate = (c: DeviceCredentials, reported: Record<string, unknown>): HttpRequestSpec => ({ method: 'POST', path: `$aws/things/${thing(c)}/shadow/update`, body: JSON.stringify({ state: { reported } }) });
  return {
    name: 'aws-iot',
    requestsOver: 'mqtt',
    provisionIdentity: (serial) => ({ clientId: serial }),
    provisionSubscriptions: ['$aws/certificates/create/json/+', `${register}/+`],
    provisionRequest: () => ({ method: 'POST', path: '$aws/certificates/create/json', body: '{}' }),
    provisionStep(body, serial, carried): ProvisionStep | undefined {
      const j = parse(body);
      if (j === undefined) return undefined;
      if (carried.certificatePem === undefined) {
        // CreateKeysAndCertificate accepted: register the thing with the token, keep the key pair.
        const { certificatePem, privateKey, certificateOwnershipToken, certificateId } = j;
        if (typeof certificatePem !== 'string' || typeof privateKey !== 'string' || typeof certificateOwnershipToken !== 'string' || typeof certificateId !== 'string') return undefined;
        return {
          next: { method: 'POST', path: register, body: JSON.stringify({ certificateOwnershipToken, parameters: { SerialNumber: serial } }) },
          carry: { certificatePem, privateKey, certificateId },
        };
      }
      // RegisterThing accepted: the thing name is the device's id from now on.
      if (typeof j.thingName !== 'string' || j.thingName === '') return undefined;
      return { credentials: { deviceId: j.thingName, secret: carried.certificateId ?? '', extra: { certificatePem: carried.certificatePem, privateKey: carried.privateKey ?? '' } } };
    },
    // Not called: provisioning answers go through provisionStep.
    decodeProvision: () => undefined,
    clientIdentity: (c) => (c.extra?.certificatePem === undefined ? undefined : { cert: c.extra.certificatePem, key: c.extra.privateKey ?? '' }),
    rejectedStatus(payload) {
      const j = parse(payload);
      if (j === undefined) return 400;
      if (typeof j.code === 'number') return j.code; // shadow: the HTTP-like code itself
      if (typeof j.statusCode === 'number') return j.statusCode; // fleet provisioning
      return typeof j.code === 'string' ? (REJECTED_STATUS[j.code] ?? 400) : 400;
    },
    updateGoneStatuses: [404, 410],
    // The device workflow page: a device coming online asks for its next job (start-next) at
    // once; notify-next fires only when the next pending execution changes, which may have
    // happened while the device was away (provisioned late, reconnecting, rebooting).
    pollOnConnect: true,
    // VersionMismatch (409) answers with the execution's current state: the terminal update goes
    // once more with that version (the UpdateJobExecution page: no DescribeJobExecution needed).
    retryReportStatuses: [409],
    authorization: () => undefined,
    connectIdentity: (c) => ({ clientId: thing(c) }),
    subscriptions: (c) => [`${jobs(c)}/notify-next`, `${jobs(c)}/start-next/+`, `${jobs(c)}/+/update/+`, `$aws/things/${thing(c)}/shadow/update/+`],
    telemetryTopic: (c) => `dt/fleetsim/${thing(c)}/telemetry`,
    telemetryPayload,
    decodeMessage(topic, payload) {
      const j = parse(payload.toString('utf8'));
      if (j === undefined) return undefined;
      if (topic.endsWith('/jobs/notify-next')) {
        const offer = isObject(j.execution) ? offerOf(j.execution) : undefined;
        return offer === undefined ? undefined : { kind: 'update', offer };
      }
      if (topic.endsWith('/shadow/update/delta') && isObject(j.state)) {
        const change = configOf(j.state);
        return change === undefined ? undefined : { kind: 'config', change };
      }
      return undefined;
    },
    pollRequest: (c) => ({ method: 'POST', path: `${jobs(c)}/start-next`, body: '{}' }),
    sendIfNoneMatch: false,
    decodePoll(body): TargetAnswer | undefined {
      const j = parse(body);
      if (j === undefined) return undefined;
      if (!isObject(j.execution)) return { changed: false };
      const offer = offerOf(j.execution);
      if (offer === undefined) return undefined;
      const v = j.execution.versionNumber;
      return { changed: true, update: offer, remember: typeof v === 'number' ? { [VERSION_PREFIX + offer.campaign]: String(v) } : undefined };
    },
    stateReport(c, report) {
      if (report.campaign === undefined) return undefined;
      const status = jobStatus(report.status);
      const v = c.extra?.[VERSION_PREFIX + report.campaign];
      const details: Record<string, string> = { step: report.status };
      if (report.cause !== undefined) details.cause = report.cause.slice(0, 1024);
      const update: HttpRequestSpec = {
        method: 'POST',
        path: `${jobs(c)}/${report.campaign}/update`,
        // clientToken = the job id: the answer echoes it, so the version it carries is kept for that job.
        // expectedVersion guards the terminal transition only. The progress steps (downloading,
        // downloaded, verifying, installing) leave back to back, each before the previous one's
        // answer with the new version is back, so a version on each would make every step after
        // the first a VersionMismatch (15 of them in a 60-device run); the final status follows a
        // reboot or a health check, by which time the last answer's version is known.
        body: JSON.stringify({ status, statusDetails: details, ...(v === undefined || status === 'IN_PROGRESS' ? {} : { expectedVersion: Number(v) }), includeJobExecutionState: true, clientToken: report.campaign }),
      };
      return status === 'SUCCEEDED' ? [update, shadowUpdate(c, { [RELEASE_KEY]: report.release })] : update;
    },
    rememberFromReport(body) {
      const j = parse(body);
      const state = j !== undefined && isObject(j.executionState) ? j.executionState : undefined;
      const v = state?.versionNumber;
      const jobId = typeof j?.clientToken === 'string' ? j.clientToken : undefined;
      return typeof v === 'number' && jobId !== undefined ? { [VERSION_PREFIX + jobId]: String(v) } : undefined;
    },
    artifactRequest: (_c, artifact) => ({ method: 'GET', path: artifact.url ?? artifact.name }),
    commandReply: (c, command, ok) => ({ topic: `dt/fleetsim/${thing(c)}/events`, payload: JSON.stringify({ commandId: command.id, ok }) }),
    configAck: (c, version): MqttUplink => ({ topic: `$aws/things/${thing(c)}/shadow/update`, payload: JSON.stringify({ state: { reported: { [CONFIG_VERSION_KEY]: version } } }) }),
    endOfLineReport: (c, ok) => ({ topic: `dt/fleetsim/${thing(c)}/events`, payload: JSON.stringify({ endOfLineOk: ok }) }),
    logs: (c, suppressed, line, lines) => ({ topic: `dt/fleetsim/${thing(c)}/logs`, payload: JSON.stringify({ lines: Array.from({ length: lines }, () => line), ...(suppressed > 0 ? { suppressed } : {}) }) }),
  };
}

/** `{"seq":N,"ts":…,"pad":"xx…"}` of `size` bytes: `seq` at the top, where the fake (and a rule's SQL) reads it. */
export function telemetryPayload(seq: number, tsMs: number, size: number): Buffer {
  return paddedJson(`{"seq":${seq},"ts":${Math.floor(tsMs)},"pad":"`, '"}', size);
}

/** The update a job execution carries, when its document is fleetsim's (operation fleetsim-update with a file). */
function offerOf(execution: Record<string, unknown>): UpdateOffer | undefined {
  const doc = execution.jobDocument;
  if (typeof execution.jobId !== 'string' || !isObject(doc) || doc.operation !== 'fleetsim-update' || typeof doc.release !== 'string' || !Array.isArray(doc.files)) return undefined;
  const artifacts: OfferedArtifact[] = [];
  for (const f of doc.files as unknown[]) {
    if (!isObject(f) || typeof f.url !== 'string' || typeof f.size !== 'number') return undefined;
    artifacts.push({ name: typeof f.fileName === 'string' ? f.fileName : f.url, url: f.url, kind: 'full', size: f.size, sha256: typeof f.sha256 === 'string' ? f.sha256 : '' });
  }
  return { campaign: execution.jobId, release: doc.release, target: doc.target === 'os' ? 'os' : 'app', artifacts };
}

/** A configuration from a shadow delta's state: `configVersion` and the other keys as values. */
function configOf(state: Record<string, unknown>): ConfigChange | undefined {
  const version = state[CONFIG_VERSION_KEY];
  if (typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(state)) if (k !== CONFIG_VERSION_KEY) values[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return { version, issuedAt: 0, values };
}
