/**
 * The Preset contract suite (test/contracts/preset.contract.ts) over the declarative preset of
 * protocols/example.yaml and the acme test backend that speaks it (src/backend/fakes/acme), on
 * loopback: operator actions through the fake's own controls, the backend's view from its
 * per-thing counts. Tokens live 300 s here so the suite's single pass needs no renewal.
 */
import { startAcmeFake } from '../../src/backend/fakes/acme/index.js';
import { declarativePreset } from '../../src/drivers/presets/declarative.js';
import { loadProtocolFile } from '../../src/scenario/protocol-load.js';
import { presetContract, type ContractBackend } from '../contracts/preset.contract.js';

const FLEET_KEY = 'acme-contract-key';
const protocol = loadProtocolFile('protocols/example.yaml');

presetContract('protocol file protocols/example.yaml x acme test backend', {
  preset: declarativePreset(protocol.data, protocol.secrets),
  fleetKey: FLEET_KEY,
  arch: 'arm64',
  async startBackend(): Promise<ContractBackend> {
    const be = await startAcmeFake({ provisioningKey: FLEET_KEY, tokenLifetimeSec: 300, commandOnSubscribe: false });
    const thing = (id: string) => {
      const t = be.state.thing(id);
      if (t === undefined) throw new Error(`the backend has no thing ${id}`);
      return t;
    };
    return {
      httpUrl: be.httpUrl,
      mqttUrl: be.mqttUrl,
      async offerUpdate(release) {
        // Offered in the desired state: the device finds it on its next poll.
        be.state.setFirmware(release, 150_000);
      },
      async pushConfig(values) {
        be.pushSettings(values);
        return be.state.settingsRevision;
      },
      async sendCommand(deviceId, name) {
        await be.sendCommand(thing(deviceId).serial, name);
      },
      async view(deviceId) {
        const t = be.state.thing(deviceId);
        return {
          provisioned: (t?.enrollments ?? 0) > 0,
          telemetry: t?.telemetry.received ?? 0,
          polls: t?.polls ?? 0,
          state: t && t.reports > 0 ? { release: t.lastReportedFw, status: t.lastPhase } : undefined,
          artifactBytes: t?.artifactBytes ?? 0,
          configAcked: t?.settingsAckedRevision ?? 0,
          commandsAnswered: t?.commandsAcked ?? 0,
          logLines: t?.logLines ?? 0,
        };
      },
      close: () => be.close(),
    };
  },
});
