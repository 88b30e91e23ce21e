import { BalenaApi } from './api.js';
import { BalenaControl } from './control.js';
import { startFakeHttpServer } from '../control-plane.js';
import { BalenaState, type BalenaDevice, type BalenaRelease } from './state.js';

/**
 * A local fake of balena's device-facing API (registration, target state v3, state reports,
 * log batches) and of the registry the images come from, written from open-balena-api and
 * balena-supervisor. It keeps one fleet, its releases and pin, and counts what each device
 * sent; docs/presets/balena.md says what it models and what not.
 *
 * Concurrency: runs on the event loop of the thread that started it; call it from there only.
 */

export type { BalenaDevice, BalenaRelease } from './state.js';
export { RELEASE_LABEL, UPDATE_STATUSES } from './state.js';
export { MAX_LOGS_PER_BATCH } from './shapes.js';
export { LOG_BATCH_POINTS, LOG_BATCH_WINDOW_MS } from './log-rate.js';

export interface BalenaFakeOptions {
  host?: string;
  port?: number;
  /** The fleet's provisioning key (config.json `apiKey`). */
  provisioningKey: string;
  /** The fleet's (application's) id the devices register with (default 1). */
  fleetId?: number;
  /** Device type slugs the fleet accepts (default generic-aarch64, raspberrypi4-64, jetson-orin-nano-devkit-nvme). */
  deviceTypes?: readonly string[];
  /** `BALENA_SUPERVISOR_POLL_INTERVAL` in the target state's config, ms (default: not set, the supervisor's 900000). */
  pollIntervalMs?: number;
}

export interface BalenaFake {
  /** `http://host:port`: the devices' apiEndpoint (and the registry the image locations name). */
  readonly url: string;
  readonly state: BalenaState;
  /** A release of one `main` service whose image is `bytes`. */
  addRelease(name: string, bytes: Buffer): BalenaRelease;
  /** Pins the fleet to a release: every device's target state names it. */
  pin(name: string): BalenaRelease;
  revokeKey(uuid: string): boolean;
  devices(): BalenaDevice[];
  close(): Promise<void>;
}

export const DEFAULT_DEVICE_TYPES = ['generic-aarch64', 'raspberrypi4-64', 'jetson-orin-nano-devkit-nvme'];

export async function startBalenaFake(opts: BalenaFakeOptions): Promise<BalenaFake> {
  const host = opts.host ?? '127.0.0.1';
  let registryHost = host;
  const fleetId = opts.fleetId ?? 1;
  const state = new BalenaState(
    { id: fleetId, uuid: `f1ee75${String(fleetId).padStart(26, '0')}`, name: 'fleetsim-fleet', provisioningKey: opts.provisioningKey, deviceTypes: new Set(opts.deviceTypes ?? DEFAULT_DEVICE_TYPES) },
    () => registryHost,
  );
  state.pollIntervalMs = opts.pollIntervalMs;
  const api = new BalenaApi(state);
  const control = new BalenaControl(state);
  const server = await startFakeHttpServer('balena', { host, port: opts.port }, control, api);
  registryHost = server.authority;
  const url = server.url;
  return {
    url,
    state,
    addRelease: (name, bytes) => state.addRelease(name, bytes),
    pin(name) {
      const r = state.releaseByName(name);
      if (r === undefined) throw new Error(`no release ${name}`);
      state.pinned = r;
      return r;
    },
    revokeKey: (uuid) => state.revokeKey(uuid),
    devices: () => [...state.devices.values()],
    close: () => server.close(),
  };
}
