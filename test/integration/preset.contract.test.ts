/**
 * The Preset contract suite (test/contracts/preset.contract.ts) over the reference preset and the
 * embedded backend on loopback (port 0): operator actions through the backend's operator API,
 * the backend's view from its store.
 */
import { startEmbeddedBackend } from '../../src/backend/index.js';
import { referencePreset } from '../../src/drivers/presets/reference.js';
import { FLEET_PATHS, OPERATOR_AUTH_SCHEME } from '../../src/wire/fleet-ops.js';
import { presetContract, type ContractBackend } from '../contracts/preset.contract.js';

const FLEET_KEY = 'preset-contract-key';
const ARCH = 'arm64';

presetContract('reference x embedded backend', {
  preset: referencePreset,
  fleetKey: FLEET_KEY,
  arch: ARCH,
  pollsOnConnect: false,
  async startBackend(): Promise<ContractBackend> {
    const be = await startEmbeddedBackend({ fleetKey: FLEET_KEY, mqtt: true });
    const operator = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(be.httpUrl + path, {
        method: 'POST',
        headers: { authorization: `${OPERATOR_AUTH_SCHEME} ${FLEET_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    return {
      httpUrl: be.httpUrl,
      mqttUrl: be.mqttUrl,
      async offerUpdate(release) {
        await operator(FLEET_PATHS.releases, { name: release, target: 'app', size: 150_000, archs: [ARCH, 'x86_64'] });
        await operator(FLEET_PATHS.campaigns, { release, rollout: { strategy: 'all' }, notify: 'mqtt' });
      },
      async pushConfig(values) {
        return (await operator(FLEET_PATHS.config, { config: values })).version as number;
      },
      async sendCommand(_deviceId, name) {
        await operator(FLEET_PATHS.commands, { name });
      },
      async view(deviceId) {
        const counts = be.countsFor(deviceId);
        const state = be.reportedState(deviceId);
        const ops = be.fleetOpsStats();
        return {
          provisioned: (counts?.provisions ?? 0) > 0,
          telemetry: counts?.received ?? 0,
          polls: counts?.polls ?? 0,
          state: state && state.stateReports > 0 ? { release: state.release, status: state.status } : undefined,
          artifactBytes: ops.bytesByDevice[deviceId] ?? 0,
          configAcked: state?.configAcked ?? 0,
          // One device in this backend: its totals are the device's.
          commandsAnswered: ops.commandAnswers,
          logLines: ops.logLines,
        };
      },
      close: () => be.close(),
    };
  },
});
