import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { requireMosquitto } from '../helpers/mosquitto.js';
import { expectBackendReconciles } from '../helpers/reconcile.js';
import { waitFor } from '../helpers/wait-for.js';

const METRICS_LINE = /metrics: (http:\/\/\S+)/;

/**
 * Process sharding end to end: the coordinator forks two shard processes (one worker thread
 * each), they drive devices against two local Mosquitto brokers, and the coordinator merges
 * their snapshots as it does for threads. Per device, what the simulator counted as acked must
 * equal what the backend's counting subscriber received, and both processes' shards must be in
 * the result.
 */
const scenario = `
name: it-processes
seed: 5
duration: 6s
target: { mqtt: local-mosquitto, brokers: 2 }
fleet:
  - { profile: nrf9160-tracker, count: 90, link: nb-iot }
  - { profile: rpi4-gateway, count: 30, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  telemetry: { every: 1s, jitter: 10%, size: 100B, qos: 1 }
  poll: { every: 3s, jitter: 10% }
# No modelled link: an NB-IoT provisioning exchange takes seconds on it, longer than this 6 s run;
# the test is about process sharding and per-device reconciliation, not the link.
options: { linkModel: false }
`;

describe.runIf(requireMosquitto())('--processes 2 --workers 1 against local Mosquitto', () => {
  it('two shard processes, two source addresses; merged counts reconcile per device with the brokers', async () => {
    const s = parseScenarioText(scenario, 'it-processes.yaml');
    const logs: string[] = [];
    // MQTT sockets bound to two loopback source addresses, round-robin by device.
    const sourceAddresses = ['127.0.0.2', '127.0.0.3'];
    const result = await runScenario(s, { workers: 1, processes: 2, sourceAddresses, runId: 'it-processes', collectDeviceCounts: true, drainMs: 4000, log: (l) => logs.push(l) });
    const { summary } = result;

    // Both processes' shards: two shards, each in its own process, neither in this one.
    expect(summary.run.workers).toBe(2);
    expect(result.shardThreads).toHaveLength(2);
    const pids = result.shardThreads.map((t) => t.pid);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);
    expect(pids.every((p) => p > 0)).toBe(true);
    expect(logs.join('\n')).toContain('shard processes: 2 x 1 worker thread(s)');

    expect(summary.run.status).toBe('completed');
    expect(summary.counters['provision.ok']).toBe(120);
    expect(summary.counters['mqtt.connect.ok']).toBe(120);
    expect(summary.counters['mqtt.connection_lost']).toBe(0);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.failed).toBe(0);
    expect(summary.accounting.generated).toBeGreaterThan(400);

    // Every device of both processes, reconciled with what the brokers delivered.
    expect(result.deviceAcked!.size).toBe(120);
    expectBackendReconciles(result, 120);
    // The merged timeline saw both shards in every full interval.
    expect(result.timeline.filter((r) => r.shards === 2).length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});

describe('Ctrl-C with shard processes', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-processes-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('SIGINT to the whole process group (as a terminal sends it) stops gracefully with a partial report, exit 130, no process left', async () => {
    // A process group of its own, so that the signal reaches the coordinator and its shard
    // processes together, exactly as a Ctrl-C in a terminal does.
    const child = spawn(process.execPath, [CLI, 'run', path.join(ROOT, 'test/fixtures/scenarios/runs/long.yaml'), '--processes', '2', '--workers', '2', '--out', out, '--metrics-port', '0'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (/shard processes: 2/.test(stderr) && /online/.test(stderr) && METRICS_LINE.test(stderr)) resolve();
      });
    });
    // Interrupted once acks have been counted, so the partial report has some to show.
    const url = METRICS_LINE.exec(stderr)![1];
    const acked = /fleetsim_telemetry_acked_total\{[^}]*\} [1-9]/;
    await waitFor(async () => acked.test(await fetch(url).then((res) => res.text())), 'acks on the live endpoint', 20_000, 100);
    process.kill(-child.pid!, 'SIGINT');
    const code = await done;
    expect(code, stderr).toBe(130);
    const run = path.join(out, readdirSync(out)[0]);
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    expect(summary.run.status).toBe('interrupted');
    expect(summary.run.workers).toBe(2);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.counters['telemetry.acked']).toBeGreaterThan(0);
    // Nothing of the run is left: the group empties (kill with signal 0 finds no process).
    const groupGone = () => {
      try {
        process.kill(-child.pid!, 0);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    };
    await waitFor(groupGone, 'the process group to be empty', 5000);
  }, 60_000);
});
