/**
 * Every metric fleetsim produces, by name. Thresholds, comparisons and reports look names up here,
 * so a threshold on a name that is not listed is an error, never a silent pass.
 *
 * Ordinals (the position in each list) index the typed arrays of the shard-side registry; lists
 * are append-only within a summary schema version so that saved runs stay readable.
 */

import { CAUSES, requestErrorCounters, ROUTES } from './request-errors.js';

/**
 * counter: a total over the run; gauge: a level sampled every interval; histogram: a latency
 * distribution (HDR, µs); rollout: the share of the fleet that reached a state over time, whose
 * `p(N)` is the time until N% of it had (derived at the end of a run, see DERIVED below).
 */
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'rollout';
export interface MetricDef {
  name: string;
  kind: MetricKind;
  unit: 'us' | 'ms' | 'count' | 'devices' | 'bytes' | 'ratio';
  help: string;
}

const NAMED_COUNTERS = [
  ['devices.powered_on', 'count', 'Devices that powered on.'],
  ['provision.ok', 'count', 'Successful provisioning requests.'],
  ['provision.failed', 'count', 'Provisioning requests that failed (any status but 2xx, or network error).'],
  ['mqtt.connect.ok', 'count', 'MQTT sessions established.'],
  ['mqtt.connect.failed', 'count', 'MQTT connects refused or failed.'],
  ['mqtt.reconnects', 'count', 'Reconnect attempts after a lost session.'],
  ['mqtt.connection_lost', 'count', 'Established sessions that dropped.'],
  ['telemetry.generated', 'count', 'Telemetry messages devices generated.'],
  ['telemetry.sent', 'count', 'Telemetry messages written to a live session (QoS 0 and 1): past the modelled link, on the wire.'],
  ['telemetry.acked', 'count', 'QoS 1 telemetry messages acknowledged.'],
  ['telemetry.sent_noack', 'count', 'QoS 0 telemetry messages written to a live session (no ack exists); messages the modelled link lost or still held are not among them.'],
  ['telemetry.failed', 'count', 'QoS 1 telemetry messages on the wire without a PUBACK when their session ended (the backend may or may not have them).'],
  ['telemetry.dropped', 'count', 'Telemetry messages dropped on the device (buffer full, larger than the radio can send).'],
  ['poll.ok', 'count', 'Target-state polls answered 200 or 304.'],
  ['poll.failed', 'count', 'Target-state polls that failed.'],
  ['poll.on_connect', 'count', "Target-state polls made because the device's session came up (first connect, reconnects, after a reboot), on platforms whose devices ask then (AWS IoT, ThingsBoard: docs/presets/); each is also a poll.ok or poll.failed."],
  ['state.version_retries', 'count', 'State reports sent once more after the backend rejected them for a stale version and answered the current one (AWS IoT VersionMismatch). The rejection is not an error; the retry is counted under its own outcome (errors.state.<cause> if it fails too).'],
  ['http.retry_after', 'count', 'HTTP answers, any route and status, that carried a Retry-After header (each is honoured).'],
  ['errors.http_4xx', 'count', 'HTTP 4xx answers.'],
  ['errors.http_5xx', 'count', 'HTTP 5xx answers.'],
  ['errors.network', 'count', 'Network-level errors (refused, reset, timeout).'],
  ['errors.mqtt_refused', 'count', 'CONNACK refusals.'],
  ['errors.tls', 'count', 'TLS handshakes that failed: a client certificate refused or untrusted, a server certificate not trusted.'],
  ['link.down', 'count', 'Times a device lost its link (own outage or a cell outage).'],
  ['link.up', 'count', 'Times a device got its link back.'],
  ['link.failover', 'count', 'Switchovers to the backup link that gave a device its link back.'],
  ['link.packets_lost', 'count', 'Packets lost on the modelled link and retransmitted (TCP): of telemetry messages and their acknowledgements, and of every other exchange (provisioning, connects, polls, state reports, download chunks, uplinks and their answers): late, not missing.'],
  ['link.messages_lost', 'count', 'Telemetry messages the modelled link lost after every TCP retransmission: they never reached the backend (accounting.lostOnLink).'],
  ['radio.duty_cycle_wait', 'count', 'Sends held back by the LoRaWAN duty cycle (sent later).'],
  ['radio.oversize', 'count', 'Messages larger than the radio can ever send (dropped).'],
  // Fleet operations (fleet/behaviours/).
  ['update.offered', 'count', 'Update offers devices received (MQTT notification or poll).'],
  ['update.started', 'count', 'Updates devices started (downloading).'],
  ['update.success', 'count', 'Updates committed after a passing health check.'],
  ['update.failed', 'count', 'Updates that failed (checksum, too slow, download errors, battery, incompatible).'],
  ['update.rolled_back', 'count', 'Updates rolled back after a failed health check (A/B).'],
  ['update.incompatible', 'count', 'Offers with no artifact for the device architecture (never installed).'],
  ['update.reboots', 'count', 'Reboots updates caused: one to boot an installed OS image, one more to roll it back. An application update reboots nothing.'],
  ['ota.bytes_downloaded', 'bytes', 'Artifact bytes devices received.'],
  ['ota.bytes_saved_resume', 'bytes', 'Bytes not downloaded again because interrupted downloads resumed from their offset.'],
  ['ota.bytes_saved_delta', 'bytes', 'Bytes saved by delta artifacts (full size minus delta size, per update).'],
  ['ota.resumes', 'count', 'Downloads resumed with Range after an interruption.'],
  ['config.applied', 'count', 'Configuration changes applied and acknowledged by devices.'],
  ['command.received', 'count', 'Commands (diagnostics) devices received.'],
  ['command.answered', 'count', 'Command answers acknowledged by the broker.'],
  ['logs.generated', 'count', 'Log lines devices produced.'],
  ['logs.sent', 'count', 'Log lines devices sent.'],
  ['logs.dropped', 'count', 'Log lines dropped because the device log buffer was full.'],
  ['logs.suppressed_notices', 'count', '"suppressed N" lines devices sent after dropping lines.'],
  ['logs.lost_on_link', 'count', 'Log lines devices sent (in logs.sent) that never reached the backend: still on the modelled link when their session ended or the run stopped, or refused below for want of a session. Logs are QoS 0, so the device never learns of it; the backend receives logs.sent minus these.'],
  ['logs.suppressed_notices_lost_on_link', 'count', '"suppressed N" lines (in logs.suppressed_notices) lost the same way as logs.lost_on_link.'],
  ['provision.pending', 'count', 'Provisioning answers "pending approval" (manual provisioning).'],
  ['provision.eol_ok', 'count', 'End-of-line connectivity tests passed (first boot).'],
  ['auth.reauth', 'count', 'Credentials renewed: a token that expired or was refused (the protocol\'s re-authenticate statuses, a broker refusing the login) was replaced by a new one. Measured, never fatal.'],
  ['auth.reauth_failed', 'count', 'Credential renewals that failed (any status but 2xx, or network error); also counted on the provisioning route by cause.'],
  // Outages and recovery (summary/outage.ts reads them per interval).
  ['requests.started', 'count', 'Requests devices started towards the backend: HTTP requests of every route and MQTT connects.'],
  ['recovery.devices_out', 'count', 'Devices knocked out by the backend: a failed provisioning, connect or target-state poll, or a session the backend side dropped, while they were working.'],
  ['recovery.devices_back', 'count', 'Devices back after being knocked out: provisioned, connected and reporting again (first telemetry acknowledged; connected for QoS 0 or without telemetry), and polling again when a poll had failed.'],
  // Telemetry accounting (fleet/telemetry-pipeline.ts).
  ['telemetry.in_transit_at_drop', 'count', 'Telemetry messages still on the modelled link when their session ended: they never reached the backend (accounting.inTransitAtDrop).'],
  ['telemetry.delivered_after_reconnect', 'count', "Messages from a device's buffer delivered (acked, or written for QoS 0) after the device reconnected from a lost session; a part of acked + sent_noack."],
  // Request/response over MQTT (drivers/mqtt-requests.ts); timeouts and refusals are counted on their route (errors.provision.timeout …).
  ['mqtt.request.late', 'count', 'Answers to MQTT requests (provisioning, polls over MQTT) that arrived after their request had timed out, or carried a correlation id no request of the device was waiting for: ignored by the device. The timeouts themselves are errors.<route>.timeout.'],
  // The keepalive (fleet/keepalive.ts).
  ['mqtt.pings', 'count', 'PINGREQs devices sent to keep their sessions alive: one whenever a session had carried nothing from the device for the keepalive (MQTT 3.1.1 §3.1.2.10), across the modelled link like every exchange.'],
  ['mqtt.keepalive_timeouts', 'count', 'Sessions devices gave up because no PINGRESP came back within the keepalive after their PINGREQ (a link or a broker gone dark); each is also counted in mqtt.connection_lost, and the device reconnects with its backoff.'],
  // mqtt.connection_lost by cause, as far as the device can tell (drivers/types.ts LOST_*); they add up to it.
  ['mqtt.connection_lost.closed_by_broker', 'count', "Lost sessions the broker closed without an error (TCP FIN): Mosquitto does so when it has heard nothing from the client for 1.5 keepalives (a device, or fleetsim's event loop, silent too long), when another client connects with the same id, and when it stops; modelled: the broker's keepalive, a broker restart, a disconnect phase."],
  ['mqtt.connection_lost.reset', 'count', 'Lost sessions whose connection broke with a socket error: reset by the peer (ECONNRESET), broken pipe (EPIPE), or any other but a TCP timeout.'],
  ['mqtt.connection_lost.tcp_timeout', 'count', 'Lost sessions TCP gave up (ETIMEDOUT; on the modelled link, a message retransmitted unanswered for the whole give-up time).'],
  ['mqtt.connection_lost.keepalive_timeout', 'count', 'Lost sessions the device gave up: no PINGRESP within the keepalive after its PINGREQ (mqtt.keepalive_timeouts, and the transports\' own deadlines), or a PUBACK that never came (modelled).'],
  ['mqtt.connection_lost.protocol', 'count', 'Lost sessions ended over what the broker sent: a malformed frame, an unexpected packet, a QoS 2 delivery, or telemetry over HTTP answered with an error.'],
] as const;

/** Every counter: the named ones, then errors by route and cause (metrics/request-errors.ts). */
export const COUNTERS: ReadonlyArray<readonly [string, MetricDef['unit'], string]> = [...NAMED_COUNTERS, ...requestErrorCounters()];
/** Ordinal of `errors.<route>.<cause>`; `cancelled.<route>` follow all of them. */
export const ERROR_COUNTER_BASE = NAMED_COUNTERS.length;
export const errorCounter = (route: number, cause: number): number => ERROR_COUNTER_BASE + route * CAUSES.length + cause;
export const cancelledCounter = (route: number): number => ERROR_COUNTER_BASE + ROUTES.length * CAUSES.length + route;

/** Gauges with how shards combine: `sum` for fleet counts, `max` for per-shard health. */
export const GAUGES = [
  ['devices.online', 'devices', 'Devices with an open MQTT session.', 'sum'],
  ['devices.provisioned', 'devices', 'Devices that hold credentials.', 'sum'],
  ['telemetry.buffered', 'count', 'Telemetry messages waiting in device buffers or in flight.', 'sum'],
  ['generator.schedule_lag', 'ms', 'How far the shard scheduler runs behind its schedule (max over the interval).', 'max'],
  ['generator.event_loop_delay', 'ms', 'Event-loop delay p99 of the shard thread over the interval.', 'max'],
  ['devices.offline', 'devices', 'Devices whose link is down (own outage or a cell outage).', 'sum'],
  ['devices.depleted', 'devices', 'Devices whose battery ran dry.', 'sum'],
  ['update.in_progress', 'devices', 'Devices in the middle of an update (download to health check).', 'sum'],
  ['devices.awaiting_approval', 'devices', 'Devices whose provisioning is pending an operator approval (manual provisioning): answered "pending" and not yet provisioned. `max == 0` on a summary asserts none is left waiting at the end.', 'sum'],
] as const;

const SUMMED_GAUGES: ReadonlySet<string> = new Set(GAUGES.filter((g) => g[3] === 'sum').map((g) => g[0]));
/** Combines one gauge's values from two shards. */
export function combineGauge(name: string, a: number, b: number): number {
  return SUMMED_GAUGES.has(name) ? a + b : Math.max(a, b);
}

/** Counters about the whole fleet's campaigns, which every shard of a run sees the same: merged by max, not added. */
const FLEET_WIDE_COUNTERS: ReadonlySet<string> = new Set(['campaign.started', 'campaign.aborted']);
/** Combines one counter's totals from two shards' summaries. */
export function combineCounter(name: string, a: number, b: number): number {
  return FLEET_WIDE_COUNTERS.has(name) ? Math.max(a, b) : a + b;
}

export const HISTOGRAMS = [
  ['provision.latency', 'Provisioning request to response.'],
  ['mqtt.connect.latency', 'MQTT connect to CONNACK.'],
  ['telemetry.ack.latency', "Backend only: QoS 1 PUBLISH written to the wire to its PUBACK, without the modelled link's delay and retransmissions."],
  ['telemetry.ack.latency_from_schedule', 'End to end from the intended send time to the PUBACK at the device (shows coordinated omission; modelled link included).'],
  ['poll.latency', 'Target-state poll request to response.'],
  ['update.duration', 'Update offer to committed (success) on the device, download and reboot included.'],
  ['ota.download.duration', 'Artifact download start to last byte, pauses and resumes included.'],
  ['command.rtt', "Operator's command call to the device's answer acknowledged (diagnostics round trip)."],
  ['config.propagation', 'Configuration push to applied, devices online at the push.'],
  ['config.catchup', 'Reconnect to configuration applied, devices that were offline at the push.'],
  ['provision.eol.latency', 'Provisioned to end-of-line connectivity test acknowledged.'],
  ['telemetry.ack.latency_end_to_end', "End to end as the device sees it: QoS 1 message leaving the device to its PUBACK back at the device, the modelled link's delay and TCP retransmissions included."],
  ['telemetry.delivered_after_reconnect.delay', "Generation (intended time) to ack (QoS 1) or write (QoS 0) of messages delivered from a device's buffer after a reconnect."],
] as const;

export type CounterName = (typeof NAMED_COUNTERS)[number][0];
export type GaugeName = (typeof GAUGES)[number][0];
export type HistogramName = (typeof HISTOGRAMS)[number][0];
export type MetricName = CounterName | GaugeName | HistogramName;

/** Ordinal lookups, for hot paths that index typed arrays. */
export const C = Object.fromEntries(NAMED_COUNTERS.map(([n], i) => [n, i])) as { [K in CounterName]: number };
export const G = Object.fromEntries(GAUGES.map(([n], i) => [n, i])) as { [K in GaugeName]: number };
export const H = Object.fromEntries(HISTOGRAMS.map(([n], i) => [n, i])) as { [K in HistogramName]: number };

/**
 * Metrics computed once at the end of a run from the others, the accounting identity, the backend's
 * counts and the campaigns' outcomes (engine/results/summary-builder.ts). They are not in the
 * shards' typed arrays, so they carry no ordinal.
 */
export const DERIVED: readonly MetricDef[] = [
  { name: 'telemetry.lost', kind: 'counter', unit: 'count', help: 'Telemetry messages that never reached the backend: what fleetsim knows it lost on its side (telemetry.dropped, link.messages_lost, telemetry.in_transit_at_drop), telemetry.failed, plus, with the embedded backend, messages the simulator counted as delivered that the backend never received ("lost between").' },
  { name: 'backend.uncounted', kind: 'counter', unit: 'count', help: "Telemetry the embedded backend could not count because the broker dropped it on its way to the backend's counting subscriber (local Mosquitto's own count of messages dropped for slow subscribers, $SYS; `target.mqtt: local-mosquitto` only). These reached the broker: they are not in telemetry.lost, and the backend's received and gaps miss them. Absent when the backend does not count from a broker's subscription." },
  { name: 'backend.count_unconfirmed', kind: 'counter', unit: 'count', help: "Brokers whose telemetry count the embedded backend could not confirm complete: its marker did not come back by the deadline, its counting session was lost during the run, or the broker's drops cannot be read (a broker given by URL). accounting.backend.unconfirmed says why; `count == 0` demands a confirmed count. Absent when the backend does not count from a broker's subscription." },
  { name: 'campaign.started', kind: 'counter', unit: 'count', help: 'Update campaigns (update phases) the run started.' },
  { name: 'campaign.aborted', kind: 'counter', unit: 'count', help: 'Update campaigns whose abortIf rule tripped, so they stopped admitting devices. `count == 1` asserts that the campaign aborted, `count == 0` that it did not.' },
  { name: 'campaign.failures', kind: 'counter', unit: 'count', help: 'Updates that finished without committing the release: update.failed + update.rolled_back (the numerator of abortIf\'s failure_rate).' },
  { name: 'cost.device_month', kind: 'counter', unit: 'count', help: "Cost per device per month in the scenario's currency (scenario `cost:`): data by link, messages and fees, averaged over the fleet. `count < 0.60` bounds it." },
  { name: 'data.device_month', kind: 'counter', unit: 'bytes', help: 'Bytes per device per month at the IP layer (scenario `cost:`), up and down: MQTT and HTTP framing, TLS records, TCP/IP headers, keepalives, retransmissions, polls, updates and logs.' },
  { name: 'lifetime.devices', kind: 'counter', unit: 'count', help: 'Devices made over the years of `lifetime:`, replacements included.' },
  { name: 'lifetime.failed', kind: 'counter', unit: 'count', help: 'Devices that went dark for good over the years (hardware failure, storage worn out, battery empty, bricked); `rate` is the share of lifetime.devices.' },
  { name: 'lifetime.bricked', kind: 'counter', unit: 'count', help: 'Devices bricked by a power cut during an update install (single-slot devices); `rate` is the share of lifetime.installs.' },
  { name: 'lifetime.installs', kind: 'counter', unit: 'count', help: 'Update installs over the years of `lifetime:`.' },
  { name: 'lifetime.replacements', kind: 'counter', unit: 'count', help: 'Devices installed to replace failed ones over the years.' },
  { name: 'lifetime.in_field', kind: 'counter', unit: 'count', help: 'Devices in the field at the end of the last year (working, or dark and not yet removed).' },
  { name: 'campaign.time_to_updated', kind: 'rollout', unit: 'us', help: "Time from a campaign's start until a share of the devices it can update (a compatible artifact) run its release; with several campaigns, the slowest. `p(95) < 2h`: 95% of them updated within 2 h. A share never reached is no data, so the threshold fails." },
  { name: 'recovery.time_to_back', kind: 'rollout', unit: 'us', help: 'Time from the end of a backend fault phase (phases[].backend) until a share of the devices it knocked out (recovery.devices_out in its window) were back; with several phases, the slowest. `p(95) < 30s`: 95% back within 30 s of the fault ending. No phase that knocked a device out is no data, so the threshold fails.' },
];

/**
 * Counters whose `rate` is a share of attempts, not a rate per second: for an outcome the question
 * is "what share", not "how many per second". Each maps to the counters whose sum is its
 * denominator. Every other counter's `rate` is per second of (simulated) run time.
 */
export const SHARE_OF: Readonly<Record<string, readonly string[]>> = {
  'telemetry.failed': ['telemetry.generated'],
  'telemetry.dropped': ['telemetry.generated'],
  'telemetry.lost': ['telemetry.generated'],
  'backend.uncounted': ['telemetry.generated'],
  'link.messages_lost': ['telemetry.generated'],
  'telemetry.in_transit_at_drop': ['telemetry.generated'],
  'telemetry.delivered_after_reconnect': ['telemetry.acked', 'telemetry.sent_noack'],
  'provision.ok': ['provision.ok', 'provision.failed'],
  'provision.failed': ['provision.ok', 'provision.failed'],
  'auth.reauth_failed': ['auth.reauth', 'auth.reauth_failed'],
  'mqtt.connect.ok': ['mqtt.connect.ok', 'mqtt.connect.failed'],
  'mqtt.connect.failed': ['mqtt.connect.ok', 'mqtt.connect.failed'],
  'poll.ok': ['poll.ok', 'poll.failed'],
  'poll.failed': ['poll.ok', 'poll.failed'],
  'update.success': ['update.success', 'update.failed', 'update.rolled_back'],
  'update.failed': ['update.success', 'update.failed', 'update.rolled_back'],
  'update.rolled_back': ['update.success', 'update.failed', 'update.rolled_back'],
  'update.incompatible': ['update.offered'],
  'campaign.failures': ['update.success', 'update.failed', 'update.rolled_back'],
  'campaign.aborted': ['campaign.started'],
  'logs.dropped': ['logs.generated'],
  'lifetime.failed': ['lifetime.devices'],
  'lifetime.bricked': ['lifetime.installs'],
};

export const METRICS: readonly MetricDef[] = [
  ...COUNTERS.map(([name, unit, help]) => ({ name, kind: 'counter' as const, unit, help })),
  ...GAUGES.map(([name, unit, help]) => ({ name, kind: 'gauge' as const, unit, help })),
  ...HISTOGRAMS.map(([name, help]) => ({ name, kind: 'histogram' as const, unit: 'us' as const, help })),
  ...DERIVED,
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));
export function metricDef(name: string): MetricDef | undefined {
  return BY_NAME.get(name);
}
export function metricNames(): string[] {
  return METRICS.map((m) => m.name);
}
