import { HTTP_PATHS } from '../../../wire/reference-protocol.js';
import type { PlatformFake } from '../platform-fake.js';
import { CREATE_KEYS_AND_CERTIFICATE, registerThingTopic } from './topics.js';

/**
 * The AWS IoT fake behind the PlatformFake interface. The fleet key is the fleet-provisioning
 * template's name; devices trust the fake's CA and start with its claim certificate (deviceTls),
 * which `GET /v1/fake/device-tls` also gives for tools outside a run. Devices are counted under
 * their thing name (`fleetsim-<serial>`).
 */
export const awsIotPlatformFake: PlatformFake = {
  name: 'aws-iot',
  description: "AWS IoT Core's device side: MQTT over mutual TLS, fleet provisioning by claim, Jobs (notify-next, start-next, update), the classic shadow, the broker's rate limits",
  serves: { http: true, mqtt: true },
  preset: 'aws-iot',
  exampleFleetKey: 'FleetsimTemplate',
  async start(o) {
    const { DEVICE_TLS_PATH, startAwsIotFake } = await import('./index.js');
    const fake = await startAwsIotFake({ host: o.host, httpPort: o.httpPort, mqttPort: o.mqttPort, template: { name: o.fleetKey, requiredParameters: ['SerialNumber'], thingNamePrefix: 'fleetsim-', deviceConfiguration: { telemetryTopicPrefix: 'dt/fleetsim' } }, log: o.log });
    return {
      httpUrl: fake.httpUrl,
      mqttUrl: fake.mqttUrl,
      deviceTls: { ca: fake.caCert, sharedIdentity: fake.claim },
      credentials: [
        ['provisioning template', fake.template.name],
        ['auth', 'mutual TLS: the claim certificate for provisioning, then the issued one with client ID = thing name'],
        ['CA, claim certificate and key', `${fake.httpUrl}${DEVICE_TLS_PATH}`],
      ],
      endpoints: [
        ['CreateKeysAndCertificate', CREATE_KEYS_AND_CERTIFICATE],
        ['RegisterThing', registerThingTopic(fake.template.name)],
        ['jobs', '$aws/things/<thing>/jobs/{notify-next,start-next,<jobId>/update}'],
        ['telemetry', 'dt/fleetsim/<thing>/telemetry'],
        ['device stats', `${fake.httpUrl}${HTTP_PATHS.deviceStats}`],
      ],
      stats: () => fake.deviceStats(),
      settle: async () => {},
      close: () => fake.close(),
    };
  },
};
