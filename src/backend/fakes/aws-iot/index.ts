import http from 'node:http';
import { once } from 'node:events';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { FleetsimError } from '../../../errors/fleetsim-error.js';
import { createFleetCa, issueCertificate, type PemIdentity } from '../../../identity/x509.js';
import type { DeviceStatsResponse } from '../../../wire/reference-protocol.js';
import { HTTP_PATHS } from '../../../wire/reference-protocol.js';
import { LISTEN_BACKLOG, urlHost } from '../../broker.js';
import { deviceStatsResponse, serveControlPlane } from '../control-plane.js';
import { serveBytes } from '../serve-range.js';
import { AwsIotControl } from './control.js';
import { JobsApi } from './jobs.js';
import { AWS_IOT_DEFAULT_LIMITS, type AwsIotLimits } from './limits.js';
import { startAwsIotMqtt, type AwsIotMqtt } from './mqtt.js';
import { certificateIdOf, FleetProvisioning, type ProvisioningTemplate } from './provisioning.js';
import { ShadowApi } from './shadow.js';
import { AwsIotState, type AwsThing } from './state.js';

/**
 * A local fake of AWS IoT Core's device side, written from AWS's developer guide and quota pages:
 * MQTT over mutual TLS with fleet provisioning by claim, the Jobs device API, the classic Device
 * Shadow, the message broker's published rate limits, and an HTTP server standing in for S3
 * presigned downloads (Range-resumable). It keeps things, certificates, jobs and shadows, and
 * counts what it received per thing for reconciliation. docs/presets/aws-iot.md says what it
 * models and what not.
 *
 * Concurrency: runs on the event loop of the thread that started it; call it from there only.
 */

export type { AwsThing } from './state.js';
export { AWS_IOT_DEFAULT_LIMITS, type AwsIotLimits } from './limits.js';
export { jobDocument } from './control.js';

/** The provisioning template the fake serves unless told otherwise. */
export const DEFAULT_TEMPLATE: ProvisioningTemplate = {
  name: 'FleetsimTemplate',
  requiredParameters: ['SerialNumber'],
  thingNamePrefix: 'fleetsim-',
  deviceConfiguration: { telemetryTopicPrefix: 'dt/fleetsim' },
};

/** Where the fake's HTTP server gives what a device needs to connect (fleetsim's operator side, like /v1/stats/devices). */
export const DEVICE_TLS_PATH = '/v1/fake/device-tls';

/** How long a presigned download link stays valid (the fake's choice: one hour). */
const LINK_TTL_SEC = 3600;

export interface AwsIotFakeOptions {
  host?: string;
  mqttPort?: number;
  httpPort?: number;
  template?: ProvisioningTemplate;
  limits?: Partial<AwsIotLimits>;
  /** Epoch ms (tests replace it to step the rate limits). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface AwsIotFake {
  /** `mqtts://host:port` */
  readonly mqttUrl: string;
  /** The artifact server and fleetsim's operator API: `http://host:port`. */
  readonly httpUrl: string;
  /** PEM of the CA that signs the server's and devices' certificates: what devices trust. */
  readonly caCert: string;
  /** The fleet's claim certificate and key (devices connect with it to provision themselves). */
  readonly claim: PemIdentity;
  readonly template: ProvisioningTemplate;
  readonly state: AwsIotState;
  readonly control: AwsIotControl;
  /** Creates a job on every thing (and later ones); returns its id. */
  createJob(jobId: string, document: string): string;
  /** Sets desired shadow state of things and pushes the delta to their sessions; returns how many had one. */
  setDesired(thingNames: Iterable<string>, desired: Record<string, unknown>): number;
  /** Reconciliation counts in the reference backend's shape. */
  deviceStats(): DeviceStatsResponse;
  close(): Promise<void>;
}

export async function startAwsIotFake(opts: AwsIotFakeOptions = {}): Promise<AwsIotFake> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const limits: AwsIotLimits = { ...AWS_IOT_DEFAULT_LIMITS, ...opts.limits };
  const template = opts.template ?? DEFAULT_TEMPLATE;
  const state = new AwsIotState();
  const ca = await createFleetCa('fleetsim AWS IoT fake CA');
  const server = await issueCertificate(ca, 'localhost', { server: [host, '127.0.0.1', 'localhost', '::1'] });
  const claim = await issueCertificate(ca, 'fleetsim claim certificate', { client: true });
  state.certificates.set(certificateIdOf(claim.cert), { id: certificateIdOf(claim.cert), pem: claim.cert, status: 'ACTIVE', claim: true });

  const linkKey = randomBytes(32);
  let httpUrl = '';
  const sign = (key: string, thing: string, expires: number) => createHmac('sha256', linkKey).update(`${key}\n${thing}\n${expires}`).digest('hex');
  const presign = (key: string, thing: string) => {
    const expires = Math.floor(now() / 1000) + LINK_TTL_SEC;
    return `${httpUrl}/${key}?X-Amz-Expires=${expires}&X-Fleetsim-Thing=${encodeURIComponent(thing)}&X-Amz-Signature=${sign(key, thing, expires)}`;
  };
  const jobs = new JobsApi(state, presign);
  const shadow = new ShadowApi();
  const provisioning = new FleetProvisioning(state, ca, template);
  let mqtt: AwsIotMqtt | undefined;
  const control = new AwsIotControl(state, (names) => {
    for (const n of names) {
      const t = state.things.get(n);
      if (t !== undefined) mqtt?.notifyNext(t);
    }
  });

  const deviceStats = (): DeviceStatsResponse => {
    const devices = [...state.things.values()].map((t) => ({
      deviceId: t.name, received: t.telemetry.received, duplicates: t.telemetry.duplicates, gaps: t.telemetry.gaps, maxSeq: t.telemetry.maxSeq,
      provisions: t.counts.provisions, polls: t.counts.startNext,
    }));
    return deviceStatsResponse(devices);
  };

  const http1 = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (serveControlPlane(control, req, res, url.pathname)) return;
    if (req.method === 'GET' && url.pathname === DEVICE_TLS_PATH) {
      // fleetsim's, not AWS's: what a device needs to connect to this fake (its CA, the fleet's claim certificate).
      const body = JSON.stringify({ ca: ca.pem.cert, claimCert: claim.cert, claimKey: claim.key, templateName: template.name });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && url.pathname === HTTP_PATHS.deviceStats) {
      const body = JSON.stringify(deviceStats());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    serveArtifact(req, res, url);
  });
  /** A presigned GET: 403 for a bad or expired signature (S3 answers AccessDenied), 404 for no such object. */
  function serveArtifact(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const key = decodeURIComponent(url.pathname.slice(1));
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    const thingName = url.searchParams.get('X-Fleetsim-Thing') ?? '';
    const given = Buffer.from(url.searchParams.get('X-Amz-Signature') ?? '', 'utf8');
    const want = Buffer.from(sign(key, thingName, expires), 'utf8');
    if (req.method !== 'GET' || !(given.length === want.length && timingSafeEqual(given, want)) || expires < now() / 1000) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    const file = control.files.get(key);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    const { served } = serveBytes(req, res, file.bytes, { 'content-type': 'application/octet-stream' });
    const thing = state.things.get(thingName);
    if (thing !== undefined) {
      thing.counts.artifactRequests++;
      thing.counts.artifactBytes += served;
    }
  }
  http1.keepAliveTimeout = 30_000;
  http1.headersTimeout = 35_000;
  http1.on('clientError', (_err, socket) => socket.destroy());
  try {
    http1.listen({ port: opts.httpPort ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(http1, 'listening');
    httpUrl = `http://${urlHost(host)}:${(http1.address() as AddressInfo).port}`;
    mqtt = await startAwsIotMqtt(state, { provisioning, jobs, shadow }, {
      host, port: opts.mqttPort ?? 0, limits, templateName: template.name, now, log: opts.log,
      tls: { ca: ca.pem.cert, cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true },
    });
  } catch (err) {
    http1.close();
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the AWS IoT fake could not listen on ${host}: ${(err as Error).message}`, { hint: 'pick other ports, or 0 to let the OS choose', cause: err });
  }
  const m = mqtt;

  let closing: Promise<void> | undefined;
  return {
    mqttUrl: m.url,
    httpUrl,
    caCert: ca.pem.cert,
    claim,
    template,
    state,
    control,
    createJob: (jobId, document) => control.createJob(jobId, document),
    setDesired(names, desired) {
      let pushed = 0;
      for (const n of names) {
        const t: AwsThing | undefined = state.things.get(n);
        if (t === undefined) continue;
        if (m.push(t, shadow.apply(t, undefined, desired, undefined, now()).slice(1))) pushed++;
      }
      return pushed;
    },
    deviceStats,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http1.close(() => resolve()));
        http1.closeAllConnections();
        await m.close();
        await httpClosed;
      })();
      return closing;
    },
  };
}
