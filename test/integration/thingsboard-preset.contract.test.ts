/**
 * The Preset contract suite over the `thingsboard` preset and the ThingsBoard fake: the operator's
 * actions are the tenant's (OTA package + firmware assignment, shared attributes, a two-way RPC),
 * the backend's view is the fake's per-device record.
 */
import { startThingsboardFake } from '../../src/backend/fakes/thingsboard/index.js';
import { CONFIG_VERSION_KEY, thingsboardPreset } from '../../src/drivers/presets/thingsboard.js';
import { presetContract, type ContractBackend } from '../contracts/preset.contract.js';

const KEY = 'tb-provision-key';
const SECRET = 'tb-provision-secret';
const FW_STATE_STATUS: Record<string, string> = { UPDATED: 'success', FAILED: 'failed' };

presetContract('thingsboard x ThingsBoard fake', {
  preset: thingsboardPreset,
  fleetKey: `${KEY}:${SECRET}`,
  arch: 'arm64',
  // The shared attributes read when the device comes up (docs/presets/thingsboard.md).
  pollsOnConnect: true,
  async startBackend(): Promise<ContractBackend> {
    const fake = await startThingsboardFake({ provisionKey: KEY, provisionSecret: SECRET });
    let configVersion = 0;
    const all = () => [...fake.state.devices.keys()];
    return {
      httpUrl: fake.httpUrl,
      mqttUrl: fake.mqttUrl,
      async offerUpdate(release) {
        fake.assignFirmware(fake.addPackage('contract-fw', release, Buffer.alloc(150_000, 0x5a)), all());
      },
      async pushConfig(values) {
        fake.setShared(all(), { ...values, [CONFIG_VERSION_KEY]: ++configVersion });
        return configVersion;
      },
      async sendCommand(deviceId, name) {
        if (!fake.sendRpc(deviceId, name, {}).delivered) throw new Error(`RPC ${name} not delivered to ${deviceId}`);
      },
      async view(deviceId) {
        const d = fake.state.devices.get(deviceId);
        const applied = d?.client.configApplied;
        return {
          provisioned: (d?.provisions ?? 0) > 0,
          telemetry: d?.telemetry.received ?? 0,
          polls: d?.counts.attributeRequests ?? 0,
          state: d?.fwState && d.currentFw ? { release: d.currentFw.version, status: FW_STATE_STATUS[d.fwState] ?? d.fwState } : undefined,
          artifactBytes: d?.counts.fwBytes ?? 0,
          configAcked: typeof applied === 'number' ? applied : 0,
          commandsAnswered: d?.counts.rpcReplies ?? 0,
          logLines: d?.counts.logLines ?? 0,
        };
      },
      close: () => fake.close(),
    };
  },
});
