/**
 * The Preset contract suite (test/contracts/preset.contract.ts) over the platform presets and
 * their fakes on loopback (port 0): `mender` against the Mender fake, `hawkbit` against the
 * hawkBit DDI fake. Operator actions go through the fakes' operator API (what fleetsim's
 * operator plays), the backend's view comes from each fake's own records. Both platforms are
 * HTTP-only: they have no config ack, command or log uplink, and DDI has no telemetry.
 * `balena` runs against the balena fake: no telemetry, config ack or command either, but log batches.
 */
import { startMenderFake } from '../../src/backend/fakes/mender/index.js';
import { startHawkbitFake } from '../../src/backend/fakes/hawkbit/index.js';
import { menderPreset } from '../../src/drivers/presets/mender.js';
import { hawkbitPreset } from '../../src/drivers/presets/hawkbit.js';
import { startBalenaFake } from '../../src/backend/fakes/balena/index.js';
import { balenaPreset } from '../../src/drivers/presets/balena.js';
import { FLEET_PATHS } from '../../src/wire/fleet-ops.js';
import { presetContract, type BackendView, type ContractBackend } from '../contracts/preset.contract.js';

async function operator(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

const offer = (url: string) => async (release: string) => {
  await operator(url, FLEET_PATHS.releases, { name: release, target: 'app', size: 150_000, archs: ['arm64'] });
  await operator(url, FLEET_PATHS.campaigns, { release, rollout: { strategy: 'all' }, notify: 'poll' });
};
const none = (): never => {
  throw new Error('not a step of this platform');
};
const FINAL: Record<string, string> = { success: 'success', failure: 'failed', finished: 'success', error: 'failed' };

/** An HTTP-only platform's fake as the suite drives it: no MQTT, updates offered through its operator API, no config or commands. */
function httpOnly(fake: { url: string; close(): Promise<void> }, view: (deviceId: string) => BackendView): ContractBackend {
  return { httpUrl: fake.url, mqttUrl: '', offerUpdate: offer(fake.url), pushConfig: none, sendCommand: none, view: async (id) => view(id), close: () => fake.close() };
}

presetContract('mender x Mender fake', {
  preset: (s) => menderPreset(s),
  fleetKey: 'mender-contract-tenant',
  arch: 'arm64',
  lacks: ['config', 'command', 'logs'],
  pollsOnConnect: false,
  async startBackend() {
    const fake = await startMenderFake({ autoAccept: true });
    return httpOnly(fake, (deviceId) => {
      const d = fake.state.devices.get(deviceId);
      let state: BackendView['state'];
      for (const dep of fake.state.deployments) {
        const dd = d?.deployments.get(dep.id);
        if (dd !== undefined && FINAL[dd.status]) state = { release: dep.artifactName, status: FINAL[dd.status] };
      }
      return { provisioned: d?.status === 'accepted' && d.counts.tokens > 0, telemetry: d?.seq.received ?? 0, polls: d?.counts.polls ?? 0, state, artifactBytes: d?.counts.artifactBytes ?? 0, configAcked: 0, commandsAnswered: 0, logLines: 0 };
    });
  },
});

presetContract('hawkbit x hawkBit DDI fake', {
  preset: (s) => hawkbitPreset(s),
  fleetKey: 'hawkbit-contract-secret',
  arch: 'arm64',
  lacks: ['telemetry', 'config', 'command', 'logs'],
  pollsOnConnect: false,
  async startBackend() {
    const fake = await startHawkbitFake({ tokenSecret: 'hawkbit-contract-secret', preregistered: true, pollingSec: 60, minPollingSec: 1 });
    return httpOnly(fake, (controllerId) => {
      const t = fake.state.targets.get(controllerId);
      let state: BackendView['state'];
      for (const a of fake.state.actions.values()) if (a.controllerId === controllerId && FINAL[a.status]) state = { release: a.ds.version, status: FINAL[a.status] };
      return { provisioned: t !== undefined && t.counts.polls > 0, telemetry: 0, polls: t?.counts.polls ?? 0, state, artifactBytes: t?.counts.artifactBytes ?? 0, configAcked: 0, commandsAnswered: 0, logLines: 0 };
    });
  },
});

presetContract('balena x balena fake', {
  preset: (s) => balenaPreset(s),
  fleetKey: '3:balena-contract-key',
  arch: 'arm64',
  lacks: ['telemetry', 'config', 'command'],
  pollsOnConnect: false,
  async startBackend() {
    const fake = await startBalenaFake({ provisioningKey: 'balena-contract-key', fleetId: 3 });
    return httpOnly(fake, (uuid) => {
      const d = fake.state.devices.get(uuid);
      let state: BackendView['state'];
      const running = d?.runningCommit === undefined ? undefined : fake.state.releases.get(d.runningCommit);
      if (running !== undefined) state = { release: running.name, status: 'success' };
      else for (const [commit, s] of d?.releaseStatus ?? []) if (s === 'aborted') state = { release: fake.state.releases.get(commit)!.name, status: 'failed' };
      return { provisioned: d !== undefined, telemetry: 0, polls: d?.counts.polls ?? 0, state, artifactBytes: d?.counts.blobBytes ?? 0, configAcked: 0, commandsAnswered: 0, logLines: d?.counts.logLines ?? 0 };
    });
  },
});
