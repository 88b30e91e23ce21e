/**
 * The Preset contract suite (test/contracts/preset.contract.ts) over the declarative presets of
 * protocols/example.yaml (HTTP provisioning, polls and reports) and protocols/example-mqtt.yaml
 * (provisioning, update checks and state reports by MQTT request/response, logs over HTTP), and
 * the acme test backend that speaks both (src/backend/fakes/acme), on loopback: operator actions
 * through the fake's own controls, the backend's view from its per-thing counts. Tokens live
 * 300 s here so the suite's single pass needs no renewal.
 */
import { startAcmeFake } from '../../src/backend/fakes/acme/index.js';
import { declarativePreset } from '../../src/drivers/presets/declarative.js';
import { loadProtocolFile } from '../../src/scenario/protocol-load.js';
import { presetContract, type ContractBackend } from '../contracts/preset.contract.js';

const FLEET_KEY = 'acme-contract-key';

for (const file of ['protocols/example.yaml', 'protocols/example-mqtt.yaml']) {
  const protocol = loadProtocolFile(file);
  /** The MQTT file's steps must have gone over MQTT: the backend's request/response API counts them. */
  const overMqtt = protocol.data.mqtt.provision !== undefined;

  presetContract(`protocol file ${file} x acme test backend`, {
    preset: declarativePreset(protocol.data, protocol.secrets),
    fleetKey: FLEET_KEY,
    arch: 'arm64',
    pollsOnConnect: false,
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
            provisioned: (t?.enrollments ?? 0) > 0 && (!overMqtt || be.mqttApi.requests.provision > 0),
            telemetry: t?.telemetry.received ?? 0,
            polls: overMqtt ? be.mqttApi.requests.poll : (t?.polls ?? 0),
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
}
