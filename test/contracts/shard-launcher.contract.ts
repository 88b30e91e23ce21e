/**
 * The ShardLauncher contract (src/engine/hosting/launcher.ts), written once and run over every
 * way of hosting shards: what the coordinator relies on, wherever the shards run.
 *
 * - run() resolves with the shard's result once every message the shard sent has been delivered,
 *   in the order sent: `ready` first, `stopped` last, each once.
 * - broadcast() reaches every shard started so far.
 * - A shard that fails rejects its run() with the reason.
 * - close() releases what the launcher started (no shard process outlives it), once every run() has settled.
 *
 * The shards are small virtual-clock runs (no sockets), so the suite tests the hosting only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchedShard, ShardLauncher, ShardSpec } from '../../src/engine/hosting/launcher.js';
import { envelope, type Envelope, type ShardMessage } from '../../src/engine/shard/protocol.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { waitFor } from '../helpers/wait-for.js';

export interface LauncherUnderTest {
  launcher: ShardLauncher;
  /** Whether shards run in this process ('this') or in a child process ('child'). */
  hostedIn: 'this' | 'child';
}

/** A launcher able to run `shards` shards at once. */
export type LauncherFactory = (shards: number) => LauncherUnderTest;

const DEVICES_PER_SHARD = 20;

const virtualScenario = parseScenarioText(
  [
    'name: launcher-contract',
    'seed: 3',
    'duration: 2m',
    'clock: virtual',
    `fleet: [{ profile: rpi4-gateway, count: ${2 * DEVICES_PER_SHARD}, link: ethernet }]`,
    'arrival: { rate: 20/s }',
    'behaviour: { telemetry: { every: 10s, size: 50B, qos: 1 } }',
    'options: { snapshotEvery: 30s }',
  ].join('\n'),
  'launcher-contract.yaml',
);

function spec(shard: number, shards: number, over: Partial<ShardSpec> = {}): ShardSpec {
  return {
    runId: 'launcher-contract',
    shard,
    shards,
    firstDevice: shard * DEVICES_PER_SHARD,
    count: DEVICES_PER_SHARD,
    scenario: virtualScenario,
    // Never contacted: the virtual clock models the backend.
    target: { httpUrl: 'http://127.0.0.1:1', mqttUrl: 'mqtt://127.0.0.1:1', fleetKey: 'k', preset: { kind: 'builtin', name: 'reference' } },
    drainMs: 100,
    ...over,
  };
}

export function shardLauncherContract(name: string, factory: LauncherFactory): void {
  describe(`ShardLauncher contract: ${name}`, () => {
    let under: LauncherUnderTest | undefined;
    afterEach(async () => {
      await under?.launcher.close();
      under = undefined;
    });

    /** Runs two shards the way the coordinator does: each until ready, then one broadcast start. */
    async function runTwo(launcher: ShardLauncher): Promise<{ seen: Array<Array<Envelope<ShardMessage>>>; launched: LaunchedShard[] }> {
      const seen: Array<Array<Envelope<ShardMessage>>> = [[], []];
      const runs: Array<Promise<LaunchedShard>> = [0, 1].map((shard) => launcher.run(spec(shard, 2), (env) => seen[shard].push(env)));
      await waitFor(() => seen.every((s) => s.some((e) => e.msg.type === 'ready')), 'both shards ready');
      launcher.broadcast(envelope({ next: 0 }, { type: 'start', startAtMs: Date.now() }));
      return { seen, launched: await Promise.all(runs) };
    }

    it('runs shards on one broadcast start: every message delivered before run() resolves, ready first and stopped last', async () => {
      under = factory(2);
      const { seen, launched } = await runTwo(under.launcher);
      for (const shard of [0, 1]) {
        const types = seen[shard].map((e) => e.msg.type);
        expect(types[0], `shard ${shard}`).toBe('ready');
        expect(types[types.length - 1], `shard ${shard}`).toBe('stopped');
        expect(types.filter((t) => t === 'ready' || t === 'stopped')).toEqual(['ready', 'stopped']);
        expect(types).toContain('snapshot');
        // In the order the shard sent them.
        const ids = seen[shard].map((e) => e.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        const stopped = seen[shard][types.length - 1].msg as Extract<ShardMessage, { type: 'stopped' }>;
        expect(stopped.shard).toBe(shard);
        expect(stopped.final.generated).toBeGreaterThan(0);
        expect(launched[shard].result).toBeDefined();
        if (under.hostedIn === 'this') expect(launched[shard].pid).toBe(process.pid);
        else {
          expect(launched[shard].pid).toBeGreaterThan(0);
          expect(launched[shard].pid).not.toBe(process.pid);
        }
      }
    }, 60_000);

    it('close() releases what the launcher started: no shard process outlives it', async () => {
      under = factory(2);
      const { launcher, hostedIn } = under;
      const pids = (await runTwo(launcher)).launched.map((l) => l.pid);
      await launcher.close();
      under = undefined;
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      if (hostedIn === 'child') await waitFor(() => pids.every((pid) => !alive(pid)), 'every shard process to exit', 20_000);
      else expect(pids).toEqual([process.pid, process.pid]);
    }, 60_000);

    it('a shard that fails rejects its run() with the reason', async () => {
      under = factory(1);
      const wall = { ...virtualScenario, clock: 'wall' as const };
      const failing = under.launcher.run(spec(0, 1, { scenario: wall, target: { ...spec(0, 1).target, preset: { kind: 'builtin', name: 'no-such-preset' } } }), () => {});
      await expect(failing).rejects.toThrow(/no-such-preset/);
    }, 60_000);
  });
}
