import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runVirtualShard } from '../../src/engine/shard/virtual.js';
import type { ControlMessage } from '../../src/engine/shard/protocol.js';
import type { ShardTask } from '../../src/engine/shard/task.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { C, cancelledCounter } from '../../src/metrics/catalog.js';
import { Route } from '../../src/metrics/request-errors.js';
import { LinkedDriver } from '../../src/fleet/linked-driver.js';

/**
 * The end of a virtual run closes the driver the fleet talks to, as the wall clock does
 * (lifecycle.closeDriver()): with a link model that is the LinkedDriver, whose close answers every
 * request still held on the link with CANCELLED. Closing the model driver below it instead left
 * those requests without an answer: started, never counted as answered or cancelled.
 */
describe('virtual shard close', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers polls still held on the modelled link at the end with CANCELLED, so every poll started is accounted for', async () => {
    // NB-IoT: an exchange takes seconds each way and a lost packet waits out TCP's retransmission
    // timer, so with polls every 10 s some are on the link when the run (and its drain) ends.
    const count = 300;
    const scenario = parseScenarioText(
      `
name: held-at-close
seed: 5
duration: 3m
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: ${count}, link: nb-iot }
arrival: { rate: 100/s }
behaviour:
  poll: { every: 10s, jitter: 10% }
`,
      'held-at-close.yaml',
    );
    const polls = vi.spyOn(LinkedDriver.prototype, 'pollTarget');
    const provisions = vi.spyOn(LinkedDriver.prototype, 'provision');
    const { port1, port2 } = new MessageChannel();
    const metrics = new ShardMetrics(0);
    let handler: (m: ControlMessage) => void = () => {};
    const task: ShardTask = {
      runId: 'virtual-close',
      shard: 0,
      shards: 1,
      firstDevice: 0,
      count,
      scenario,
      target: { httpUrl: 'model:', mqttUrl: 'model:', fleetKey: 'k', preset: { kind: 'builtin', name: 'reference' } },
      port: port1,
      drainMs: 0,
    };
    try {
      await runVirtualShard({
        task,
        metrics,
        send: (m) => {
          if (m.type === 'ready') setImmediate(() => handler({ type: 'start', startAtMs: 0 }));
        },
        onControl: (h) => (handler = h),
      });
      const n = (counter: number) => metrics.counters[counter];
      const cancelledPolls = n(cancelledCounter(Route.poll));
      // The premise: some polls were still on the link when the run closed.
      expect(cancelledPolls).toBeGreaterThan(0);
      expect(n(C['poll.ok']) + n(C['poll.failed']) + cancelledPolls).toBe(polls.mock.calls.length);
      expect(n(C['provision.ok']) + n(C['provision.failed']) + n(cancelledCounter(Route.provision))).toBe(provisions.mock.calls.length);
    } finally {
      metrics.destroy();
      port1.close();
      port2.close();
    }
  }, 30_000);
});
