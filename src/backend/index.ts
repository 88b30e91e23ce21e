import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { FleetsimError } from '../errors/fleetsim-error.js';
import type { DeviceStatsResponse, DeviceTelemetryCounts, TargetStateResponse } from '../wire/reference-protocol.js';
import { type Broker, type BrokerKind, LISTEN_BACKLOG, type OperatorCredential, urlHost } from './broker.js';
import { startLeanBroker } from './broker-lean.js';
import { type FaultPlan, Faults } from './faults.js';
import { HttpApi } from './http-api.js';
import { HTTP_TIMEOUTS, HttpFront, type HttpTimeouts } from './http-front.js';

export { HTTP_TIMEOUTS, type HttpTimeouts } from './http-front.js';
import { DeviceStore, type TargetSpec } from './store.js';
import { FleetOps, epochNow } from './fleet-ops.js';
import type { CampaignStatus, FleetOpsStats } from '../wire/fleet-ops.js';
import type { BrokerCounter, CounterQos, CounterTls } from './broker-counter.js';
import type { CountCheck } from './count-confirmation.js';
import type { SeqLocator } from '../wire/telemetry-seq.js';

/**
 * The embedded reference fleet backend: the HTTP fleet API and the MQTT broker of
 * wire/reference-protocol.ts over one in-memory device store, on loopback ports the OS picks.
 * It imports nothing of the simulator, so a real backend that speaks the same protocol can replace it.
 *
 * Concurrency: runs on the event loop of the thread that started it; every method must be called
 * from that thread.
 */

export type { FaultPlan, FaultRule, FaultRoute } from './faults.js';
export type { TargetSpec } from './store.js';
export type { BrokerKind, OperatorCredential } from './broker.js';
export type { CountCheck } from './count-confirmation.js';

export interface EmbeddedBackendOptions {
  fleetKey: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (the OS picks). */
  httpPort?: number;
  /** Default 0 (the OS picks). */
  mqttPort?: number;
  /** Start the MQTT broker (default true). */
  mqtt?: boolean;
  /** Which broker: fleetsim's own (`lean`, the default) or aedes. Same logins, topics and counting. */
  broker?: BrokerKind;
  /** Where diagnostics go (default: nowhere). */
  log?: (line: string) => void;
  /** Injected misbehaviour of the HTTP API, for tests; can be changed later with setFaults. */
  faults?: FaultPlan;
  /**
   * External brokers whose telemetry the backend counts by subscribing (when devices use a
   * local Mosquitto instead of the embedded broker).
   */
  countFrom?: readonly string[];
  /** TLS of the counting subscribers (trust, and a client certificate where the broker asks for one). */
  countTls?: CounterTls;
  /** QoS of the counting subscription (broker-counter.ts, CounterQos: 0 for local Mosquitto); default 1. */
  countQos?: CounterQos;
  /** The `countFrom` brokers publish $SYS every second (local Mosquitto fleetsim started), so their drops can be read; default false. */
  countSysDrops?: boolean;
  /** Where telemetry payloads carry their sequence number (default: the reference `{"seq":` prefix). */
  telemetrySeq?: SeqLocator;
  /** An MQTT login that may subscribe to every topic, to watch the traffic (see broker.ts); absent: none. */
  operator?: OperatorCredential;
  /** HTTP timeouts against slow clients (defaults: HTTP_TIMEOUTS); tests shorten them. */
  httpTimeouts?: Partial<HttpTimeouts>;
}

export interface DeviceReportedState {
  release: string;
  status: string;
  stateReports: number;
  /** Highest configuration version the device acknowledged (0: none). */
  configAcked: number;
}

export interface EmbeddedBackend {
  readonly fleetKey: string;
  /** `http://host:port`, no trailing slash. */
  readonly httpUrl: string;
  /** `mqtt://host:port`, or '' when started with `mqtt: false`. */
  readonly mqttUrl: string;
  /** Totals and per-device counts (what GET /v1/stats/devices answers). */
  stats(): DeviceStatsResponse;
  countsFor(deviceId: string): DeviceTelemetryCounts | undefined;
  /** Telemetry publishes whose payload had no readable sequence number. */
  malformedTelemetry(): number;
  /** What the device last reported with PUT state, or undefined for an unknown device. */
  reportedState(deviceId: string): DeviceReportedState | undefined;
  /** Sets the target state, fleet-wide or for some devices (see DeviceStore.setTarget). */
  setTarget(spec: TargetSpec, deviceIds?: Iterable<string>): TargetStateResponse;
  setFaults(plan: FaultPlan): void;
  /** Publishes to `fleet/<deviceId>/commands`. Rejects when the broker is not running. */
  sendCommand(deviceId: string, payload: Buffer | string, qos?: 0 | 1): Promise<void>;
  /** MQTT sessions open right now. */
  mqttClients(): number;
  /** Fleet operations: artifact bytes served, reports, versions over time, acks, logs (GET /v1/stats/fleet-ops). */
  fleetOpsStats(): FleetOpsStats;
  /** A campaign's status, or undefined for an unknown id. */
  campaign(id: string): CampaignStatus | undefined;
  /** Every campaign's status, oldest first. */
  campaigns(): CampaignStatus[];
  /**
   * Waits until the counting subscribers of `countFrom` brokers have caught up, and says what of
   * their count could not be confirmed (backend/count-confirmation.ts); undefined without them
   * (the embedded broker counts in-process, exactly).
   */
  settle(): Promise<CountCheck | undefined>;
  /** Closes every socket and server; idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedBackend(opts: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const store = new DeviceStore(opts.fleetKey);
  if (opts.telemetrySeq) store.telemetrySeq = opts.telemetrySeq;
  const faults = new Faults(opts.faults);
  let broker: Broker | undefined;
  const ops = new FleetOps(store, (rec, payload) => broker?.publishCommand(rec.id, payload));
  const api = new HttpApi(store, faults, ops);

  const timeouts = { ...HTTP_TIMEOUTS, ...opts.httpTimeouts };
  const server = http.createServer({ keepAlive: true, noDelay: true, connectionsCheckingInterval: timeouts.checkEveryMs }, api.handle);
  server.keepAliveTimeout = timeouts.keepAliveMs;
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code !== 'ECONNRESET') log(`http client error: ${err.message}`);
    socket.destroy();
  });
  // Device requests are answered by the lean front; every other connection goes on to Node's server.
  const front = new HttpFront(api, server, timeouts);

  let counter: BrokerCounter | undefined;
  try {
    server.listen({ port: opts.httpPort ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(server, 'listening');
    if (opts.mqtt !== false) {
      // aedes and mqtt.js (the counting subscribers) are loaded only by runs that use them: loading
      // them cost every run's coordinator ~0.2-0.3 s of CPU each (bench/RESULTS.md, "Provisioning CPU per device").
      const start = opts.broker === 'aedes' ? (await import('./broker-aedes.js')).startAedesBroker : startLeanBroker;
      broker = await start(store, { host, port: opts.mqttPort ?? 0, log, fleetOps: ops, operator: opts.operator });
    }
    if (opts.countFrom && opts.countFrom.length > 0) counter = await (await import('./broker-counter.js')).BrokerCounter.start(store, opts.countFrom, opts.countTls, opts.countQos, opts.countSysDrops);
  } catch (err) {
    ops.close();
    front.close();
    server.close();
    const e = err as NodeJS.ErrnoException;
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the embedded backend could not listen on ${host}: ${e.message}`, {
      hint: e.code === 'EADDRINUSE' ? 'pick another port, or 0 to let the OS choose one' : 'check the host address and ports',
      cause: err,
    });
  }
  const httpUrl = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  log(`embedded backend: http ${httpUrl}${broker ? `, mqtt ${broker.url}` : ''}`);

  let closing: Promise<void> | undefined;
  return {
    fleetKey: opts.fleetKey,
    httpUrl,
    mqttUrl: broker?.url ?? '',
    stats: () => store.stats(),
    countsFor: (id) => store.countsFor(id),
    malformedTelemetry: () => store.malformedTelemetry,
    reportedState(id) {
      const rec = store.get(id);
      return rec && { release: rec.release, status: rec.status, stateReports: rec.stateReports, configAcked: rec.configAcked };
    },
    setTarget: (spec, ids) => store.setTarget(spec, ids),
    setFaults: (plan) => faults.set(plan),
    sendCommand(id, payload, qos) {
      if (broker === undefined) return Promise.reject(new Error('the embedded backend was started without its MQTT broker'));
      return broker.sendCommand(id, payload, qos);
    },
    mqttClients: () => broker?.connectedClients() ?? 0,
    fleetOpsStats: () => ops.stats(),
    campaign: (id) => ops.campaigns.get(id)?.view(epochNow()),
    campaigns: () => ops.campaigns.all().map((c) => c.view(epochNow())),
    settle: async () => counter?.settle(),
    close() {
      closing ??= (async () => {
        api.close();
        ops.close();
        front.close();
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([httpClosed, broker?.close(), counter?.close()]);
      })();
      return closing;
    },
  };
}
