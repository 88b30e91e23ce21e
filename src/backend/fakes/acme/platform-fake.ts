import type { PlatformFake } from '../platform-fake.js';

/** The acme-things test backend (protocols/example.yaml's protocol) behind the PlatformFake interface. */
export const examplePlatformFake: PlatformFake = {
  name: 'example',
  description: "the acme-things test backend: protocols/example.yaml's protocol (bearer tokens, version polling, MQTT commands)",
  serves: { http: true, mqtt: true },
  preset: 'protocols/example.yaml',
  exampleFleetKey: 'acme-provisioning-key',
  async start(o) {
    const { startAcmeFake } = await import('./index.js');
    const fake = await startAcmeFake({ provisioningKey: o.fleetKey, host: o.host, httpPort: o.httpPort, mqttPort: o.mqttPort });
    return {
      httpUrl: fake.httpUrl,
      mqttUrl: fake.mqttUrl,
      credentials: [['provisioning key', o.fleetKey]],
      endpoints: [
        ['enrol', `${fake.httpUrl}/api/v2/enrollments`],
        ['stats', `${fake.httpUrl}/api/v2/stats`],
      ],
      stats: () => fake.stats(),
      settle: () => fake.settle(),
      close: () => fake.close(),
    };
  },
};
