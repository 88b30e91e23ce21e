import { describe, expect, test } from 'vitest';
import { runScenario } from '../../src/engine/coordinator.js';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * One fleet-wide backend whatever the worker count: a reconnect storm against a connect operation
 * with 2 servers and a waiting room of 150 gives the same queue (arrivals, waits, rejections) and
 * the same device-side connect latencies with 1 and with 2 workers, exactly (the lockstep merges
 * requests in an order that does not depend on the split: engine/fleet-backend.ts).
 */
const SCENARIO = `
name: backend-queue-workers
seed: 5
duration: 4m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 1500, link: ethernet, cells: 10 }
arrival: { rate: 40/s }
behaviour:
  telemetry: { every: 30s, jitter: 10%, size: 200B, qos: 1 }
  poll: { every: 60s, jitter: 10% }
backend:
  connect: { service: { distribution: exponential, mean: 30ms }, servers: 2, queue: 150 }
  poll: { service: { distribution: constant, mean: 20ms }, capacity: 100/s, queue: 0, whenFull: reject, rejectStatus: 429, retryAfter: 5s }
phases:
  - { at: 2m, outage: { scope: cell, fraction: 30%, duration: 20s } }
`;

describe('fleet-wide backend queue', () => {
  test('1 and 2 workers give the same queue and the same connect latencies', async () => {
    const s = parseScenarioText(SCENARIO);
    const one = await runScenario(s, { workers: 1, runId: 'bq-1' });
    const two = await runScenario(s, { workers: 2, runId: 'bq-2' });
    const q1 = one.summary.backend!;
    expect(q1.operations.connect.servers).toBe(2);
    // poll: capacity 100/s × 20 ms = 2 servers, an Erlang loss system
    expect(q1.operations.poll.servers).toBe(2);
    // The storm queues and overflows: the test means something only if the queue was used.
    expect(q1.operations.connect.waitedShare).toBeGreaterThan(0.1);
    expect(q1.operations.connect.rejected).toBeGreaterThan(0);
    expect(two.summary.backend).toEqual(q1);
    expect(two.summary.histograms['mqtt.connect.latency'].stats).toEqual(one.summary.histograms['mqtt.connect.latency'].stats);
    expect(two.summary.counters['mqtt.connect.failed']).toBe(one.summary.counters['mqtt.connect.failed']);
    expect(one.summary.counters['mqtt.connect.failed']).toBe(q1.operations.connect.rejected);
    // Rejected polls carry Retry-After as 429s.
    expect(one.summary.counters['poll.failed'] ?? 0).toBe(q1.operations.poll.rejected);
    expect(two.summary.accounting).toEqual(one.summary.accounting);
  }, 60_000);

  test('fleet uplinks turned away by a full publish operation are not acknowledged', async () => {
    // 300 devices answer one diagnostics command within ~100 ms of each other; one publish server
    // with no waiting room takes one reply per 50 ms and turns the rest away (no PUBACK). A reply
    // is answered (command.answered) only when the backend served it: the two add up to the replies.
    const s = parseScenarioText(`
name: fleet-uplinks-turned-away
seed: 3
duration: 3m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 300, link: ethernet }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 1m, size: 100B, qos: 0 }
  diagnostics: { processing: 100ms }
backend:
  publish: { service: { distribution: constant, mean: 50ms }, servers: 1, queue: 0 }
phases:
  - at: 1m
    command: { name: diagnostics, devices: 100% }
`);
    const { summary } = await runScenario(s, { workers: 1, runId: 'bq-fleet-uplinks' });
    const pub = summary.backend!.operations.publish;
    const c = summary.fleet!.commands!;
    expect(c.received).toBe(300);
    expect(pub.arrivals).toBe(c.received);
    expect(pub.rejected).toBeGreaterThan(100);
    expect(c.answered).toBe(pub.served);
    expect(c.answered + pub.rejected).toBe(c.received);
  }, 60_000);
});
