/**
 * The Preset contract suite over the `aws-iot` preset and the AWS IoT fake: provisioning by claim
 * on a session of its own, then the device's own mutual-TLS session; the operator's actions are a
 * job (the update) and a desired shadow state (the configuration). AWS IoT Core has no commands in
 * the device API the preset speaks: the suite checks none is faked.
 */
import { startAwsIotFake } from '../../src/backend/fakes/aws-iot/index.js';
import { awsIotPreset, CONFIG_VERSION_KEY, RELEASE_KEY } from '../../src/drivers/presets/aws-iot.js';
import { presetContract, type ContractBackend } from '../contracts/preset.contract.js';

const FLEET_STATUS: Record<string, string> = { SUCCEEDED: 'success', FAILED: 'failed' };

presetContract('aws-iot x AWS IoT fake', {
  preset: awsIotPreset,
  fleetKey: 'FleetsimTemplate',
  arch: 'arm64',
  lacks: ['command'],
  // The device workflow: start-next as soon as the device comes online (docs/presets/aws-iot.md).
  pollsOnConnect: true,
  async startBackend(): Promise<ContractBackend> {
    const fake = await startAwsIotFake();
    let configVersion = 0;
    const all = () => [...fake.state.things.keys()];
    return {
      httpUrl: fake.httpUrl,
      mqttUrl: fake.mqttUrl,
      driver: { tls: { ca: fake.caCert }, identities: { identityOf: () => fake.claim } },
      async offerUpdate(release) {
        fake.control.addRelease({ name: release, target: 'app', size: 150_000, archs: [] });
        fake.control.startCampaign({ release, rollout: { strategy: 'all' }, notify: 'mqtt' } as Parameters<typeof fake.control.startCampaign>[0]);
      },
      async pushConfig(values) {
        fake.setDesired(all(), { ...values, [CONFIG_VERSION_KEY]: ++configVersion });
        return configVersion;
      },
      async sendCommand() {
        throw new Error('AWS IoT Core has no commands in this device API');
      },
      async view(thingName) {
        const t = fake.state.things.get(thingName);
        let last: { release: string; status: string } | undefined;
        for (const e of t?.executions.values() ?? []) {
          const status = FLEET_STATUS[e.status];
          const release = t?.shadow.reported[RELEASE_KEY];
          if (status !== undefined) last = { release: typeof release === 'string' ? release : '', status };
        }
        const acked = t?.shadow.reported[CONFIG_VERSION_KEY];
        return {
          provisioned: (t?.counts.provisions ?? 0) > 0,
          telemetry: t?.telemetry.received ?? 0,
          polls: t?.counts.startNext ?? 0,
          state: last,
          artifactBytes: t?.counts.artifactBytes ?? 0,
          configAcked: typeof acked === 'number' ? acked : 0,
          commandsAnswered: 0,
          logLines: t?.counts.logLines ?? 0,
        };
      },
      close: () => fake.close(),
    };
  },
});
