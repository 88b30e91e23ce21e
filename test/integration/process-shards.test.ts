import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessShards } from '../../src/engine/hosting/process-shards.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import type { ShardSpec } from '../../src/engine/hosting/launcher.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A shard process that dies fails its shards with the reason, instead of leaving the coordinator
 * waiting. The shard is only made ready (it opens nothing before `start`), then its process is
 * killed from outside.
 */
const scenario = parseScenarioText(['name: dying', 'duration: 1m', 'fleet: [{ profile: rpi4-gateway, count: 5 }]', 'arrival: { rate: 10/s }'].join('\n'), 'dying.yaml');
const spec: ShardSpec = {
  runId: 'dying',
  shard: 0,
  shards: 1,
  firstDevice: 0,
  count: 5,
  scenario,
  // Never contacted: the shard is killed before it is told to start.
  target: { httpUrl: 'http://127.0.0.1:1', mqttUrl: 'mqtt://127.0.0.1:1', fleetKey: 'k', preset: { kind: 'builtin', name: 'reference' } },
  drainMs: 100,
};

let launcher: ProcessShards | undefined;
afterEach(async () => {
  await launcher?.close();
  launcher = undefined;
});

describe('shard processes', () => {
  it('a shard process killed mid-run fails its shard with the reason', async () => {
    launcher = new ProcessShards({ processes: 1, threadsPerProcess: 1 });
    const seen: string[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const running = launcher.run(spec, (env) => {
      seen.push(env.msg.type);
      if (env.msg.type === 'ready') ready();
    });
    await isReady;
    const [pid] = launcher.pids();
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    process.kill(pid, 'SIGKILL');
    await expect(running).rejects.toThrow(/shard process 0 \(pid \d+\) exited with SIGKILL before its shards finished/);
    expect(seen).toEqual(['ready']);
    // A shard started on a dead process fails at once rather than hanging.
    await expect(launcher.run({ ...spec, shard: 0 }, () => {})).rejects.toThrow(/not running/);
  }, 30_000);

  it('a shard process told to yield runs at that niceness, its threads and (where the kernel has them) its autogroup', async () => {
    // Each shard process is its own session, so with CFS autogroups only the group's niceness
    // weighs against the coordinator hosting the embedded backend (hosting/shard-priority.ts).
    launcher = new ProcessShards({ processes: 1, threadsPerProcess: 1, nice: 7 });
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const running = launcher.run(spec, (env) => {
      if (env.msg.type === 'ready') ready();
    });
    running.catch(() => {});
    await isReady;
    const [pid] = launcher.pids();
    // /proc/<pid>/stat: the 19th field is the nice value (after the parenthesised command).
    const statNice = () => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    expect(statNice()).toBe(7);
    const group = `/proc/${pid}/autogroup`;
    if (existsSync(group)) await waitFor(() => readFileSync(group, 'utf8').includes('nice 7'), 'the shard process autogroup at nice 7');
    process.kill(pid, 'SIGKILL');
    await expect(running).rejects.toThrow(/SIGKILL/);
  }, 30_000);
});
