import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { FleetsimError } from '../../../errors/fleetsim-error.js';
import { LISTEN_BACKLOG, urlHost } from '../../broker.js';
import { BalenaApi } from './api.js';
import { BalenaControl } from './control.js';
import { serveControlPlane } from '../control-plane.js';
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
  // The operator API (fleetsim's, not balena's) shares the port: its /v1/ paths never collide with /device/ or /v2/.
  const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (!serveControlPlane(control, req, res, q < 0 ? url : url.slice(0, q))) api.handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  try {
    server.listen({ port: opts.port ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(server, 'listening');
  } catch (err) {
    server.close();
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the balena fake could not listen on ${host}: ${(err as Error).message}`, { hint: 'pick another port, or 0 to let the OS choose one', cause: err });
  }
  const port = (server.address() as AddressInfo).port;
  registryHost = `${urlHost(host)}:${port}`;
  const url = `http://${registryHost}`;
  let closing: Promise<void> | undefined;
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
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
