import { HTTP_PATHS } from '../../../wire/reference-protocol.js';
import type { PlatformFake } from '../platform-fake.js';

/**
 * The ThingsBoard fake behind the PlatformFake interface. The fleet key is the device profile's
 * `<provisionDeviceKey>:<provisionDeviceSecret>` (as the thingsboard preset reads it); devices are
 * named by the `deviceName` they provision with.
 */
export const thingsboardPlatformFake: PlatformFake = {
  name: 'thingsboard',
  description: "ThingsBoard's device API: provisioning by key/secret, access-token MQTT and HTTP, telemetry, attributes, RPC, fw_* OTA",
  serves: { http: true, mqtt: true },
  preset: 'thingsboard',
  exampleFleetKey: 'provision-key:provision-secret',
  async start(o) {
    const colon = o.fleetKey.indexOf(':');
    const provisionKey = colon < 0 ? o.fleetKey : o.fleetKey.slice(0, colon);
    const provisionSecret = colon < 0 ? '' : o.fleetKey.slice(colon + 1);
    const { startThingsboardFake } = await import('./index.js');
    const fake = await startThingsboardFake({ host: o.host, httpPort: o.httpPort, mqttPort: o.mqttPort, provisionKey, provisionSecret, log: o.log });
    return {
      httpUrl: fake.httpUrl,
      mqttUrl: fake.mqttUrl,
      credentials: [
        ['provisionDeviceKey', provisionKey],
        ['provisionDeviceSecret', provisionSecret],
        ['auth', 'MQTT username = the access token provisioning returns (CONNACK 4/5 otherwise); HTTP: /api/v1/{token}/…'],
      ],
      endpoints: [
        ['provision (HTTP)', `${fake.httpUrl}/api/v1/provision`],
        ['provision (MQTT)', '/provision/request → /provision/response (username "provision")'],
        ['telemetry (MQTT)', 'v1/devices/me/telemetry'],
        ['device stats', `${fake.httpUrl}${HTTP_PATHS.deviceStats}`],
      ],
      stats: () => fake.stats(),
      settle: async () => {},
      close: () => fake.close(),
    };
  },
};
