/**
 * AWS IoT Core's reserved topics a device uses, as the developer guide names them
 * (docs/presets/aws-iot.md cites the page behind each). Pure: shared by the fake and the preset.
 *
 * Request topics are answered on `<request>/accepted` or `<request>/rejected`.
 */

/** Fleet provisioning by claim: CreateKeysAndCertificate (JSON payload format). */
export const CREATE_KEYS_AND_CERTIFICATE = '$aws/certificates/create/json';
/** Fleet provisioning: RegisterThing with the template `templateName` (JSON payload format). */
export const registerThingTopic = (templateName: string) => `$aws/provisioning-templates/${templateName}/provision/json`;

export const jobsTopics = (thing: string) => ({
  notifyNext: `$aws/things/${thing}/jobs/notify-next`,
  startNext: `$aws/things/${thing}/jobs/start-next`,
  /** UpdateJobExecution of one job. */
  update: (jobId: string) => `$aws/things/${thing}/jobs/${jobId}/update`,
});

export const shadowTopics = (thing: string) => ({
  update: `$aws/things/${thing}/shadow/update`,
  get: `$aws/things/${thing}/shadow/get`,
  delta: `$aws/things/${thing}/shadow/update/delta`,
});

/**
 * Topics that are the device's own and not reserved: AWS IoT has no telemetry topic of its own (any
 * topic the policy allows); these follow the data-telemetry (`dt/`) and command (`cmd/`) prefixes
 * of AWS's MQTT topic design whitepaper, with `fleetsim` as the application.
 */
export const deviceTopics = (thing: string) => ({
  telemetry: `dt/fleetsim/${thing}/telemetry`,
  logs: `dt/fleetsim/${thing}/logs`,
  events: `dt/fleetsim/${thing}/events`,
});

export const ACCEPTED = '/accepted';
export const REJECTED = '/rejected';

/** The thing name and the rest of a `$aws/things/<thing>/...` topic, or undefined. */
export function thingTopic(topic: string): { thing: string; rest: string } | undefined {
  if (!topic.startsWith('$aws/things/')) return undefined;
  const from = '$aws/things/'.length;
  const slash = topic.indexOf('/', from);
  if (slash < 0) return undefined;
  return { thing: topic.slice(from, slash), rest: topic.slice(slash + 1) };
}
