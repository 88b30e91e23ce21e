import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { FakeDeviceStats } from '../platform-fake.js';
import { FleetsimError } from '../../../errors/fleetsim-error.js';
import { LISTEN_BACKLOG, urlHost } from '../../broker.js';
import { TbHttpApi } from './http.js';
import { ThingsboardControl } from './control.js';
import { serveControlPlane } from '../control-plane.js';
import { RPC_TIMEOUT_MS, startTbMqtt } from './mqtt.js';
import { ThingsboardState, type OtaPackage, type TbDevice } from './state.js';

/**
 * A local fake of ThingsBoard's device-facing API (MQTT and HTTP transports), written from
 * ThingsBoard's MQTT/HTTP device API pages, its provisioning and OTA guides and its sources
 * (thingsboard/thingsboard). One device profile with a provisioning key and secret; the tenant's
 * side (OTA packages, firmware assignment, shared attributes, server-side RPC) is this object's
 * methods. It counts what it received per device; docs/presets/thingsboard.md says what it models
 * and what not.
 *
 * Concurrency: runs on the event loop of the thread that started it; call it from there only.
 */

export type { OtaPackage, TbDevice, TbDeviceCounts } from './state.js';
export { TOPICS, TB_MAX_PAYLOAD_SIZE, PROVISION_SESSION_CLOSE_MS, RPC_TIMEOUT_MS } from './mqtt.js';

export interface ThingsboardFakeOptions {
  host?: string;
  httpPort?: number;
  mqttPort?: number;
  provisionKey: string;
  provisionSecret: string;
  log?: (line: string) => void;
}

export interface RpcOutcome {
  id: number;
  /** False when the device had no session subscribed to RPC requests (the platform answers the caller 504/409). */
  delivered: boolean;
}

export interface ThingsboardFake {
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly state: ThingsboardState;
  /** Uploads an OTA package (title, version, bytes; checksum SHA256). */
  addPackage(title: string, version: string, bytes: Buffer): OtaPackage;
  /** Assigns a package to devices: sets their fw_* shared attributes and pushes them to subscribed sessions; returns how many were pushed. */
  assignFirmware(pkg: OtaPackage, deviceNames: Iterable<string>): number;
  /** Sets shared attributes of devices and pushes the change; returns how many were pushed. */
  setShared(deviceNames: Iterable<string>, values: Record<string, unknown>): number;
  /** A two-way server-side RPC to one device, timing out after `timeoutMs`. */
  sendRpc(deviceName: string, method: string, params: unknown, timeoutMs?: number): RpcOutcome;
  devices(): TbDevice[];
  /** Per device: telemetry sequence numbers, provisions, attribute reads (what `GET /v1/stats/devices` answers). */
  stats(): FakeDeviceStats;
  close(): Promise<void>;
}

export async function startThingsboardFake(opts: ThingsboardFakeOptions): Promise<ThingsboardFake> {
  const host = opts.host ?? '127.0.0.1';
  const state = new ThingsboardState(opts.provisionKey, opts.provisionSecret);
  // Set once the broker is up; the operator API cannot be called before the server listens.
  let control: ThingsboardControl | undefined;
  const rpcReply = (dev: TbDevice, id: number): boolean => {
    const p = dev.pendingRpc.get(id);
    if (p === undefined) return false;
    clearTimeout(p.timer);
    dev.pendingRpc.delete(id);
    dev.counts.rpcReplies++;
    control?.onRpcEnd(dev, id, true);
    return true;
  };
  const api = new TbHttpApi(state, { rpcReply });
  // The operator API (fleetsim's, not ThingsBoard's) shares the port: its /v1/ paths never collide with /api/v1/.
  const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (control === undefined || !serveControlPlane(control, req, res, q < 0 ? url : url.slice(0, q))) api.handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  let mqtt: Awaited<ReturnType<typeof startTbMqtt>> | undefined;
  try {
    server.listen({ port: opts.httpPort ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(server, 'listening');
    mqtt = await startTbMqtt(state, { host, port: opts.mqttPort ?? 0, log: opts.log, rpcReply });
  } catch (err) {
    server.close();
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the ThingsBoard fake could not listen on ${host}: ${(err as Error).message}`, { hint: 'pick other ports, or 0 to let the OS choose', cause: err });
  }
  const m = mqtt;
  const httpUrl = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;

  function setShared(names: Iterable<string>, values: Record<string, unknown>): number {
    let pushed = 0;
    for (const name of names) {
      const dev = state.devices.get(name);
      if (dev === undefined) continue;
      Object.assign(dev.shared, values);
      if (m.pushAttributes(dev, values)) pushed++;
    }
    return pushed;
  }

  function sendRpc(name: string, method: string, params: unknown, timeoutMs = RPC_TIMEOUT_MS): RpcOutcome {
    const dev = state.devices.get(name);
    if (dev === undefined) return { id: -1, delivered: false };
    const id = dev.nextRpcId++;
    if (!m.pushRpc(dev, id, { method, params })) return { id, delivered: false };
    dev.counts.rpcSent++;
    const timer = setTimeout(() => {
      if (!dev.pendingRpc.delete(id)) return;
      dev.counts.rpcTimedOut++;
      control?.onRpcEnd(dev, id, false);
    }, timeoutMs).unref();
    dev.pendingRpc.set(id, { method, sentAt: Date.now(), timer });
    return { id, delivered: true };
  }
  control = new ThingsboardControl(state, {
    setShared,
    sendRpc(name, method, params) {
      const r = sendRpc(name, method, params);
      return r.delivered ? r.id : undefined;
    },
  });

  let closing: Promise<void> | undefined;
  return {
    httpUrl,
    mqttUrl: m.url,
    state,
    addPackage: (title, version, bytes) => state.addPackage(title, version, bytes),
    assignFirmware: (pkg, names) => setShared(names, ThingsboardState.fwAttributes(pkg)),
    setShared,
    sendRpc,
    devices: () => [...state.devices.values()],
    stats: () => api.deviceStats(),
    close() {
      closing ??= (async () => {
        for (const d of state.devices.values()) for (const p of d.pendingRpc.values()) clearTimeout(p.timer);
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await m.close();
        await httpClosed;
      })();
      return closing;
    },
  };
}
