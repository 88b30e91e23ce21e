import {
  acksFor, connectionClose, connectionOpen, exchange, httpMessage, mqttConnect, mqttPublish, mqttSubscribe, oneWay,
  MQTT_CONNACK, MQTT_DISCONNECT, MQTT_PINGREQ, MQTT_PINGRESP, MQTT_PUBACK, MQTT_SUBACK, writeBytes,
  type Framing, type UpDown,
} from './wire-bytes.js';

/**
 * A device's data volume for one day, by activity, from what it did that day (counts) and how the
 * protocols frame it (wire-bytes.ts). Everything is a closed-form sum, so a hand count of one
 * device-day checks it (test/unit/models-data-volume.test.ts), and "what if" questions (another
 * poll interval, keepalive, delta updates, batching) change a count and sum again.
 */

export const ACTIVITIES = ['telemetry', 'sessions', 'keepalive', 'polling', 'updates', 'logs'] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** What one device does in one day (averages, so fractions are fine). */
export interface DeviceDayUsage {
  /** Telemetry reports, their payload, QoS and topic; `batch` reports share one PUBLISH. */
  reports: number;
  payloadBytes: number;
  qos: 0 | 1;
  batch: number;
  /** TCP segments of telemetry (or its acks) lost and sent again. */
  retransmissions: number;
  /** MQTT sessions opened (each: TCP, TLS, CONNECT, SUBSCRIBE; closed with DISCONNECT). */
  sessions: number;
  /** Share of sessions whose TLS handshake is resumed. */
  resumedShare: number;
  /** PINGREQ/PINGRESP pairs. */
  pings: number;
  /** Target-state polls; how many carry a body (200, not 304); new HTTP connections they open. */
  polls: number;
  pollBodies: number;
  pollBodyBytes: number;
  httpConnections: number;
  /** Update bytes downloaded, in Range requests of `chunkBytes`. */
  otaBytes: number;
  chunkBytes: number;
  /** Log messages published (QoS 0) and the log bytes they carry in total. */
  logMessages: number;
  logBytes: number;
}

/** Sizes of the identifiers on the wire (the reference protocol's, docs/models.md). */
export interface WireIds {
  deviceIdBytes: number;
  deviceKeyBytes: number;
  hostBytes: number;
  etagBytes: number;
}

/** The reference protocol: `d-<serial>` ids, 43-character base64url keys, a 16-hex-digit etag. */
export const REFERENCE_IDS: WireIds = { deviceIdBytes: 16, deviceKeyBytes: 43, hostBytes: 15, etagBytes: 16 };

const x = (n: number) => 'x'.repeat(Math.max(0, Math.round(n)));
const DATE = ['date', 'Thu, 01 Jan 2026 00:00:00 GMT'] as const;
const KEEP = [['connection', 'keep-alive'], ['keep-alive', 'timeout=5']] as const;

/** Byte sizes of the reference protocol's messages (plaintext, before TLS). */
export interface MessageSizes {
  telemetryTopic: number;
  logsTopic: number;
  commandsFilter: number;
  connect: number;
  pollRequest: number;
  poll304: number;
  poll200Head: number;
  chunkRequest: number;
  chunkHead: number;
}

export function messageSizes(ids: WireIds): MessageSizes {
  const id = x(ids.deviceIdBytes);
  const auth = [['host', x(ids.hostBytes)], ['authorization', `Device ${x(ids.deviceKeyBytes)}`]] as const;
  const etag = ['etag', `"${x(ids.etagBytes)}"`] as const;
  return {
    telemetryTopic: `fleet/${id}/telemetry`.length,
    logsTopic: `fleet/${id}/logs`.length,
    commandsFilter: `fleet/${id}/commands`.length,
    connect: mqttConnect(ids.deviceIdBytes, ids.deviceIdBytes, ids.deviceKeyBytes),
    pollRequest: httpMessage(`GET /v1/devices/${id}/target HTTP/1.1`, [...auth, ['if-none-match', `"${x(ids.etagBytes)}"`]], 0),
    poll304: httpMessage('HTTP/1.1 304 Not Modified', [etag, DATE, ...KEEP], 0),
    // content-length written with 4 digits: bodies of 1,000-9,999 bytes.
    poll200Head: httpMessage('HTTP/1.1 200 OK', [['content-type', 'application/json'], ['content-length', '0000'], etag, DATE, ...KEEP], 0),
    chunkRequest: httpMessage('GET /v1/artifacts/release-2.0.0 HTTP/1.1', [...auth, ['range', 'bytes=1048576-1114111']], 0),
    chunkHead: httpMessage('HTTP/1.1 206 Partial Content', [['content-type', 'application/octet-stream'], ['content-length', '65536'], ['content-range', 'bytes 1048576-1114111/4194304'], DATE, ...KEEP], 0),
  };
}

export type VolumeByActivity = Record<Activity, UpDown>;

const add = (a: UpDown, b: UpDown, times = 1): void => {
  a.up += b.up * times;
  a.down += b.down * times;
};

/** Bytes up and down per activity for one device-day. */
export function deviceDayVolume(u: DeviceDayUsage, f: Framing, m: MessageSizes): VolumeByActivity {
  const v = Object.fromEntries(ACTIVITIES.map((a) => [a, { up: 0, down: 0 }])) as VolumeByActivity;
  const batch = Math.max(1, u.batch);
  const publishes = u.reports / batch;
  const publish = mqttPublish(m.telemetryTopic, u.payloadBytes * batch, u.qos);
  add(v.telemetry, u.qos === 1 ? exchange(f, publish, MQTT_PUBACK) : oneWay(f, publish), publishes);
  // A retransmitted segment is a telemetry segment again (payload and headers).
  v.telemetry.up += u.retransmissions * writeBytes(f, Math.min(publish, f.mss));
  const resumed = u.sessions * u.resumedShare;
  add(v.sessions, connectionOpen(f, false), u.sessions - resumed);
  add(v.sessions, connectionOpen(f, true), resumed);
  add(v.sessions, exchange(f, m.connect, MQTT_CONNACK), u.sessions);
  add(v.sessions, exchange(f, mqttSubscribe(m.commandsFilter), MQTT_SUBACK), u.sessions);
  add(v.sessions, { up: writeBytes(f, MQTT_DISCONNECT), down: 0 }, u.sessions);
  add(v.sessions, connectionClose(f), u.sessions);
  add(v.keepalive, exchange(f, MQTT_PINGREQ, MQTT_PINGRESP), u.pings);
  add(v.polling, exchange(f, m.pollRequest, m.poll304), u.polls - u.pollBodies);
  add(v.polling, exchange(f, m.pollRequest, m.poll200Head + u.pollBodyBytes), u.pollBodies);
  const httpOpen = connectionOpen(f, u.resumedShare > 0);
  const httpClose = connectionClose(f);
  add(v.polling, httpOpen, u.httpConnections);
  add(v.polling, httpClose, u.httpConnections);
  if (u.otaBytes > 0) {
    // Averages over days: a fraction of a chunk a day is a fraction of its bytes.
    const chunks = u.otaBytes / u.chunkBytes;
    v.updates.up += chunks * (writeBytes(f, m.chunkRequest) + acksFor(f, m.chunkHead + u.chunkBytes));
    v.updates.down += chunks * writeBytes(f, m.chunkHead + u.chunkBytes);
  }
  if (u.logMessages > 0) add(v.logs, oneWay(f, mqttPublish(m.logsTopic, u.logBytes / u.logMessages, 0)), u.logMessages);
  return v;
}

/** Total bytes of a volume. */
export function totalBytes(v: VolumeByActivity): number {
  let n = 0;
  for (const a of ACTIVITIES) n += v[a].up + v[a].down;
  return n;
}

/**
 * Billable messages per activity on a per-message platform that meters each PUBLISH in `meterBytes`
 * increments (AWS IoT Core meters in 5 KB): telemetry and logs PUBLISHes (sessions, pings and
 * HTTP are not messages there).
 */
export function billableMessages(u: DeviceDayUsage, m: MessageSizes, meterBytes: number): Record<Activity, number> {
  const out = Object.fromEntries(ACTIVITIES.map((a) => [a, 0])) as Record<Activity, number>;
  const batch = Math.max(1, u.batch);
  out.telemetry = (u.reports / batch) * Math.ceil((u.payloadBytes * batch) / meterBytes);
  if (u.logMessages > 0) out.logs = u.logMessages * Math.ceil(u.logBytes / u.logMessages / meterBytes);
  return out;
}

/**
 * PINGREQs a standing session sends per day. A client pings when it has sent nothing for a
 * keepalive period (MQTT 3.1.1 §3.1.2.10): with a report every T seconds and keepalive k < T,
 * ceil(T / k) - 1 pings fall between two reports; with no reports, one every k. Reports `jitter`ed
 * (each interval uniform in T · (1 ± jitter), as fleet/lifecycle.ts plans them) make that the mean
 * of ceil(T / k) - 1 over the interval, per mean interval T (renewal-reward): with T = 15 min,
 * k = 60 s and 10 % jitter, 14.5 pings per report instead of 14. What fleet/keepalive.ts does, bar
 * the other uplinks (logs, command replies), which postpone a ping and are not counted here.
 */
export function pingsPerSessionDay(reportEveryS: number | undefined, keepaliveS: number, jitter = 0): number {
  if (!(keepaliveS > 0)) return 0;
  if (reportEveryS === undefined) return 86_400 / keepaliveS;
  return (pingsPerReport(reportEveryS, keepaliveS, jitter) * 86_400) / reportEveryS;
}

/** Mean PINGREQs between two reports `reportEveryS` ± `jitter` apart (0 with keepalive off). */
export function pingsPerReport(reportEveryS: number, keepaliveS: number, jitter = 0): number {
  if (!(keepaliveS > 0)) return 0;
  return meanPingsBetween(gapBoundS(reportEveryS, -jitter), gapBoundS(reportEveryS, jitter), keepaliveS);
}

/** T · (1 ± j) to the microsecond, so that 60 s + 10 % is 66 s and not 66.00000000000001 (a ping that never happens). */
function gapBoundS(reportEveryS: number, jitter: number): number {
  return Math.max(0, Math.round(reportEveryS * (1 + jitter) * 1e6) / 1e6);
}

/** The shortest whole-second keepalive at which reports `reportEveryS` ± `jitter` apart leave no gap for a ping. */
export function pingFreeKeepaliveS(reportEveryS: number, jitter = 0): number {
  return Math.ceil(gapBoundS(reportEveryS, jitter));
}

/** Mean of max(0, ceil(T / k) - 1) for T uniform on [lo, hi]: the integral of the step function, piece by piece. */
function meanPingsBetween(lo: number, hi: number, k: number): number {
  const a = lo / k;
  const b = hi / k;
  if (!(b > a)) return Math.max(0, Math.ceil(a) - 1);
  let area = 0;
  for (let n = Math.max(1, Math.floor(a) + 1); n - 1 < b; n++) area += (n - 1) * (Math.min(b, n) - Math.max(a, n - 1));
  return area / (b - a);
}
