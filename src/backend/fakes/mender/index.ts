import { randomBytes } from 'node:crypto';
import { TokenIssuer } from './auth.js';
import { MenderApi } from './api.js';
import { MenderControl } from './control.js';
import { startFakeHttpServer } from '../control-plane.js';
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
  const server = await startFakeHttpServer('Mender', { host, port: opts.port }, control, api);
  const url = server.url;
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
      return server.close();
    },
  };
}
