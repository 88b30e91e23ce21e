import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { FleetsimError } from '../../../errors/fleetsim-error.js';
import { LISTEN_BACKLOG, urlHost } from '../../broker.js';
import { TokenIssuer } from './auth.js';
import { MenderApi } from './api.js';
import { MenderControl } from './control.js';
import { serveControlPlane } from '../control-plane.js';
import { MenderState, type MenderArtifact, type MenderDeployment, type MenderDevice } from './state.js';

/**
 * A local fake of Mender's device-facing API (deviceauth, inventory, deployments), written from
 * the platform's published device API documents. It keeps enough state to run deployments and
 * counts what it received per device; docs/presets/mender.md says what it models and what not.
 *
 * Concurrency: runs on the event loop of the thread that started it; call it from there only.
 */

export type { MenderArtifact, MenderDeployment, MenderDevice } from './state.js';
export { INVENTORY_SEQ } from './state.js';

export interface MenderFakeOptions {
  host?: string;
  port?: number;
  /** Accept new devices without an operator (default true); else `accept(id)` admits them. */
  autoAccept?: boolean;
  /** With autoAccept, how long a new device stays pending first (default 0). */
  acceptAfterMs?: number;
  /** Lifetime of device tokens in seconds (the platform's default is 7 days). */
  tokenTtlSec?: number;
  /** Lifetime of artifact download links in seconds (default 24 h). */
  linkTtlSec?: number;
}

export interface MenderFake {
  /** `http://host:port`: the client's ServerURL. */
  readonly url: string;
  readonly state: MenderState;
  /** Stores a `.mender` artifact (validated as the platform validates uploads). */
  upload(bytes: Buffer): MenderArtifact;
  /** Deploys an uploaded artifact to some devices (ids), or to every device when `devices` is absent. */
  deploy(name: string, artifactName: string, devices?: Iterable<string>): MenderDeployment;
  abort(deploymentId: string): boolean;
  accept(deviceId: string): boolean;
  /** Device deployments of one deployment, by status. */
  deploymentStats(deploymentId: string): Record<string, number>;
  devices(): MenderDevice[];
  close(): Promise<void>;
}

/** Seven days: deviceauth's default `jwt_exp_timeout` (mendersoftware/deviceauth config.yaml). */
export const DEFAULT_TOKEN_TTL_SEC = 7 * 24 * 3600;
const DEFAULT_LINK_TTL_SEC = 24 * 3600;

export async function startMenderFake(opts: MenderFakeOptions = {}): Promise<MenderFake> {
  const host = opts.host ?? '127.0.0.1';
  const state = new MenderState({ autoAccept: opts.autoAccept ?? true, acceptAfterMs: opts.acceptAfterMs ?? 0 });
  const api = new MenderApi(state, new TokenIssuer(), randomBytes(32), {
    tokenTtlSec: opts.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC,
    linkTtlSec: opts.linkTtlSec ?? DEFAULT_LINK_TTL_SEC,
  });
  const control = new MenderControl(state);
  // The operator API (fleetsim's, not Mender's) shares the port: its /v1/ paths never collide with /api/devices/.
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
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the Mender fake could not listen on ${host}: ${(err as Error).message}`, { hint: 'pick another port, or 0 to let the OS choose one', cause: err });
  }
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    state,
    upload: (bytes) => state.upload(bytes),
    deploy: (name, artifactName, devices) => state.deploy(name, artifactName, devices, Date.now()),
    abort: (id) => state.abort(id),
    accept: (id) => state.accept(id),
    deploymentStats: (id) => state.deploymentStats(id),
    devices: () => [...state.devices.values()],
    close() {
      control.close();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
