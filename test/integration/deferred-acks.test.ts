import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runScenario, type RunResult } from '../../src/engine/coordinator.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { comparableSummary, comparableTimeline } from '../helpers/virtual-compare.js';
import { ROOT } from '../helpers/cli.js';

/**
 * Deferred acks on the virtual clock (engine/clock/deferred-events.ts): an ack that only its
 * device can see runs outside the event queue, just before its device's next event. The results
 * must be exactly those of queueing every ack (`eagerAcks`), event count included, in runs that
 * stress the order: acks seconds late, behind their device's own later events; reconnect storms
 * with many equal times, own outages cutting sessions with acks in flight, the broker's keepalive closing silent sessions, polls and connects queueing at
 * a fleet-wide backend in lockstep steps, and two workers.
 */
const STORMS = `
name: deferred-acks-storms
seed: 31
duration: 2h
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 700, link: nb-iot, cells: 10 }
  - { profile: esp32-wifi-sensor, count: 500, link: wifi, cells: 5 }
arrival: { rate: 40/s }
behaviour:
  telemetry: { every: 2m, jitter: 10%, size: 200B, qos: 1 }
  poll: { every: 15m, jitter: 5% }
  keepalive: 45s
  offline: { availability: 85%, downtime: { distribution: lognormal, median: 3m } }
# A slow backend: PUBACKs seconds after their PUBLISH, so that a device's own events (outages,
# keepalive checks, its next report) often come between, and deferred acks must wait for them.
backend:
  publish: { service: { distribution: exponential, mean: 20s } }
phases:
  - at: 40m
    outage: { scope: cell, fraction: 50%, duration: 5m }
options:
  snapshotEvery: 1m
`;

const QUEUEING = `
name: deferred-acks-queueing
seed: 5
duration: 30m
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 800, link: nb-iot, cells: 8 }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 30s, jitter: 20%, size: 200B, qos: 1 }
  poll: { every: 2m, jitter: 10% }
  offline: { availability: 90%, downtime: { distribution: lognormal, median: 1m } }
backend:
  connect: { service: { distribution: exponential, mean: 30ms }, servers: 2, queue: 150 }
  poll: { service: { distribution: constant, mean: 20ms }, capacity: 100/s, queue: 0, whenFull: reject, rejectStatus: 429, retryAfter: 5s }
  publish: { service: { distribution: exponential, mean: 20ms }, servers: 2, queue: 50 }
phases:
  - { at: 10m, outage: { scope: cell, fraction: 30%, duration: 1m } }
options:
  snapshotEvery: 30s
`;

async function both(yaml: string, workers: number): Promise<{ deferred: RunResult; queued: RunResult }> {
  const s = parseScenarioText(yaml, 'deferred-acks.yaml');
  const deferred = await runScenario(s, { workers, runId: 'deferred' });
  const queued = await runScenario(s, { workers, runId: 'queued', eagerAcks: true });
  return { deferred, queued };
}

function expectSameResults(r: { deferred: RunResult; queued: RunResult }): void {
  expect(r.deferred.summary.run.status).toBe('completed');
  expect(r.deferred.summary.accounting.holds).toBe(true);
  expect(comparableSummary(r.deferred.summary, true)).toEqual(comparableSummary(r.queued.summary, true));
  expect(r.deferred.timeline.length).toBe(r.queued.timeline.length);
  expect(comparableTimeline(r.deferred.timeline)).toEqual(comparableTimeline(r.queued.timeline));
}

describe('virtual clock: deferred acks give exactly the results of queued acks', () => {
  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/engine/hosting/shard-worker.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  test('reconnect storms, own outages and the broker keepalive, on 2 workers', async () => {
    const r = await both(STORMS, 2);
    const c = r.deferred.summary.counters;
    // Not trivial: sessions were cut with acks in flight, the broker closed silent sessions, the
    // link lost packets, storms reconnected whole cells.
    expect(c['telemetry.failed']).toBeGreaterThan(100);
    expect(c['mqtt.connection_lost.closed_by_broker']).toBeGreaterThan(0);
    expect(c['link.packets_lost']).toBeGreaterThan(0);
    expect(c['link.down']).toBeGreaterThan(200);
    expect(c['telemetry.delivered_after_reconnect']).toBeGreaterThan(100);
    // Most acks ran deferred; with eagerAcks none did.
    expect(r.deferred.deferredEvents).toBeGreaterThan(0.9 * c['telemetry.acked']);
    expect(r.queued.deferredEvents).toBe(0);
    expectSameResults(r);
  }, 120_000);

  test('connects, polls and publishes queueing at the fleet-wide backend in lockstep steps', async () => {
    const r = await both(QUEUEING, 1);
    expect(r.deferred.summary.backend?.operations.connect.heldToStep?.count ?? 0).toBeGreaterThan(0);
    expect(r.deferred.summary.backend?.operations.poll.rejected ?? 0).toBeGreaterThan(0);
    // PUBACKs answered by the queue at the end of a step are deferred too.
    expect(r.deferred.summary.backend?.operations.publish.waitedShare ?? 0).toBeGreaterThan(0);
    expect(r.deferred.deferredEvents).toBeGreaterThanOrEqual(r.deferred.summary.counters['telemetry.acked']);
    expect(r.deferred.deferredEvents).toBeGreaterThan(0);
    expectSameResults(r);
  }, 120_000);

  test('acks stay queued events where something acts on sessions from outside their device', async () => {
    const faulted = parseScenarioText(
      `${QUEUEING.replace('name: deferred-acks-queueing', 'name: deferred-acks-faulted').replace('phases:\n', 'phases:\n  - { at: 5m, for: 1m, backend: { mqtt: { disconnect: { share: 20% } } } }\n')}`,
      'faulted.yaml',
    );
    const sleepy = parseScenarioText(STORMS.replace('link: nb-iot, cells: 10 }', 'link: nb-iot, cells: 10, session: per-report }').replace('duration: 2h', 'duration: 50m'), 'sleepy.yaml');
    for (const s of [faulted, sleepy]) {
      const r = await runScenario(s, { workers: 1, runId: 'not-deferred' });
      expect(r.summary.run.status).toBe('completed');
      expect(r.summary.counters['telemetry.acked']).toBeGreaterThan(0);
      expect(r.deferredEvents).toBe(0);
    }
  }, 120_000);
});
