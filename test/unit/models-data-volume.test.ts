import { describe, expect, it } from 'vitest';
import { billableMessages, deviceDayVolume, messageSizes, pingsPerSessionDay, REFERENCE_IDS, totalBytes, type DeviceDayUsage } from '../../src/models/data-volume.js';
import { framing, TLS13_RECORD_OVERHEAD, TLS_HANDSHAKE_DEFAULTS } from '../../src/models/wire-bytes.js';
import { DAYS_PER_MONTH, monthlyCost } from '../../src/models/data-cost.js';

const tls13 = { recordOverhead: TLS13_RECORD_OVERHEAD, ...TLS_HANDSHAKE_DEFAULTS['1.3'], resumption: false };

/**
 * One device-day counted by hand: a standing MQTT session over TLS 1.3 on IPv4, 96 QoS 1 reports
 * of 200 B (one every 15 min), keepalive 60 s, 24 polls answered 304 each on a new connection.
 * Every packet carries 20 B IPv4 + 32 B TCP (timestamps) = 52 B; every TLS record 22 B.
 */
const day: DeviceDayUsage = {
  reports: 96, payloadBytes: 200, qos: 1, batch: 1, retransmissions: 0,
  sessions: 1, resumedShare: 0, pings: pingsPerSessionDay(900, 60),
  polls: 24, pollBodies: 0, pollBodyBytes: 0, httpConnections: 24,
  otaBytes: 0, chunkBytes: 65_536, logMessages: 0, logBytes: 0,
};

describe('data volume of one device-day', () => {
  const v = deviceDayVolume(day, framing('ipv4', tls13), messageSizes(REFERENCE_IDS));

  it('telemetry: PUBLISH 239 B (topic fleet/<16>/telemetry, 32 B), PUBACK 4 B, one ACK back', () => {
    // PUBLISH: 1 + 2 (remaining length 236) + 2 + 32 + 2 + 200 = 239; +22 TLS +52 = 313; ACK of the PUBACK 52.
    expect(v.telemetry).toEqual({ up: 96 * (313 + 52), down: 96 * (4 + 22 + 52) });
  });

  it('keepalive: 14 pings between two reports (15 min / 60 s - 1), 1,344 a day', () => {
    expect(day.pings).toBe(1344);
    expect(v.keepalive).toEqual({ up: 1344 * (2 + 22 + 52 + 52), down: 1344 * (2 + 22 + 52) });
  });

  it('session: TCP and TLS handshakes, CONNECT, SUBSCRIBE, DISCONNECT, close', () => {
    const open = { up: 60 + 52 + (380 + 52) + 52, down: 60 + (2600 + 2 * 52) }; // SYN 60 B, ClientHello+Finished 380 B, server flight 2 segments
    const connect = { up: 1 + 1 + 91 + 22 + 52 + 52, down: 4 + 22 + 52 }; // 10 + (2+16) + (2+16) + (2+43) = 91
    const subscribe = { up: 1 + 1 + 36 + 22 + 52 + 52, down: 5 + 22 + 52 }; // 2 + 2 + (2+31) + 1 = 36
    const disconnect = 2 + 22 + 52;
    const close = 2 + 22 + 52 + 2 * 52;
    expect(v.sessions).toEqual({ up: open.up + connect.up + subscribe.up + disconnect + close, down: open.down + connect.down + subscribe.down + close });
  });

  it('polling: a 177 B GET answered by a 139 B 304, on a new connection each', () => {
    // GET line 48+2, host 23, authorization 67, if-none-match 35, blank 2 = 177.
    // 304 line 25+2, etag 26, date 37, connection 24, keep-alive 23, blank 2 = 139.
    const poll = { up: 177 + 22 + 52 + 52, down: 139 + 22 + 52 };
    const conn = { up: 596 + 180, down: 2764 + 180 };
    expect(v.polling).toEqual({ up: 24 * (poll.up + conn.up), down: 24 * (poll.down + conn.down) });
    expect(v.updates).toEqual({ up: 0, down: 0 });
    expect(v.logs).toEqual({ up: 0, down: 0 });
  });

  it('the whole day, and its price per month', () => {
    const total = 96 * 443 + 1344 * 204 + (1235 + 3101) + 24 * (303 + 213 + 776 + 2944);
    expect(totalBytes(v)).toBe(total);
    const msgs = billableMessages(day, messageSizes(REFERENCE_IDS), 5_000);
    expect(msgs.telemetry).toBe(96);
    const c = monthlyCost({ currency: 'USD', links: { 'lte-m': { kind: 'per-mb', perMB: 0.5 } }, perMessage: { perMillion: 1, meterBytes: 5000 }, perDeviceMonth: 0.1 }, 'lte-m', v, msgs);
    expect(c.total).toBeCloseTo((total * DAYS_PER_MONTH) / 1e6 * 0.5 + (96 * DAYS_PER_MONTH) / 1e6 + 0.1, 12);
    const plan = monthlyCost({ currency: 'USD', links: { 'lte-m': { kind: 'plan', monthly: 1, allowanceBytes: 5e6, overPerMB: 0.2 } }, perDeviceMonth: 0 }, 'lte-m', v, msgs);
    expect(plan.total).toBeCloseTo(1 + ((total * DAYS_PER_MONTH - 5e6) / 1e6) * 0.2, 12);
  });

  it('batching 4 reports per PUBLISH cuts the messages and the per-message framing', () => {
    const b = deviceDayVolume({ ...day, batch: 4 }, framing('ipv4', tls13), messageSizes(REFERENCE_IDS));
    // 24 PUBLISHes of 800 B: 1 + 2 + 2 + 32 + 2 + 800 = 839; +22 +52; ACK 52; PUBACK 78.
    expect(b.telemetry).toEqual({ up: 24 * (839 + 22 + 52 + 52), down: 24 * 78 });
  });
});
