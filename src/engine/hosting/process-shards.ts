import { fork, type ChildProcess } from 'node:child_process';
import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import type { HostToParent, ParentToHost } from './process-protocol.js';
import { packagePath } from '../../package-files.js';
import type { LaunchedShard, ShardLauncher, ShardSpec } from './launcher.js';

export interface ProcessShardsOptions {
  processes: number;
  /** Shards per process: shard i runs in process floor(i / threadsPerProcess), as a worker thread. */
  threadsPerProcess: number;
  /** Node flags of the shard processes (default SHARD_PROCESS_FLAGS; never the coordinator's, which may be a test runner's). */
  execArgv?: string[];
  /** Niceness the shard processes take (threads and autogroup, shard-priority.ts); 0 or absent: the coordinator's. */
  nice?: number;
}

interface Pending {
  onMessage: (env: Envelope<ShardMessage>) => void;
  resolve: (launched: LaunchedShard) => void;
  reject: (err: Error) => void;
}

interface Host {
  index: number;
  child: ChildProcess;
  pending: Map<number, Pending>;
  exited: Promise<void>;
}

/**
 * V8 flags of a shard process. Many run side by side (one per ~19,500 devices at 20,000
 * descriptors), so each one's fixed memory counts: a 1 MB semi-space and one V8 platform thread
 * took ~8 MB of private memory off each idle shard process (bench/RESULTS.md, "connected"), and a
 * shard's allocation rate is low enough that the smaller young generation costs no visible CPU.
 *
 * `--heap-growing-percent=20`: after each full GC the old generation may grow by 20 % of what
 * survived before the next one, instead of V8's dynamic factor (up to 4x for a heap that GCs
 * fast). Sessions with telemetry keep promoting a little garbage (write requests, frames) and,
 * unlike idle sessions, never let the memory reducer run, so the old generation sat far above its
 * live size: shard processes of 19,000 sessions with QoS 1 telemetry once a minute, sampled mid-hold,
 * had 55-63 MiB of old space committed for 40 MiB live (0.8-1.2 KiB per device of slack); with it,
 * 38-39 MiB for 32 (bench/RESULTS.md, "Memory per device with telemetry"), with no more shard
 * CPU over the hold.
 */
export const SHARD_PROCESS_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1', '--heap-growing-percent=20'];

/** How long a shard process may take to exit once told to close, before it is killed. */
const CLOSE_TIMEOUT_MS = 15_000;

/**
 * Shards spread over child processes (process-host.ts), each running its shards as worker
 * threads, for runs that need more descriptors than one process may hold. Shard messages and
 * control messages are relayed over each child's IPC channel; the coordinator merges snapshots
 * exactly as it does for threads, since a snapshot is the same message whichever way it came.
 *
 * A child that dies fails its shards (the run then ends as failed, with the reason); a child
 * never outlives the coordinator (it exits when its IPC channel closes).
 */
export class ProcessShards implements ShardLauncher {
  private readonly hosts = new Map<number, Host>();

  constructor(private readonly opts: ProcessShardsOptions) {}

  run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard> {
    const host = this.host(Math.floor(spec.shard / this.opts.threadsPerProcess));
    return new Promise((resolve, reject) => {
      if (host.child.exitCode !== null || host.child.signalCode !== null || !host.child.connected) {
        reject(new Error(`shard process ${host.index} is not running`));
        return;
      }
      host.pending.set(spec.shard, { onMessage, resolve, reject });
      send(host, { kind: 'run', spec });
    });
  }

  broadcast(env: Envelope<ControlMessage>): void {
    for (const h of this.hosts.values()) send(h, { kind: 'control', env });
  }

  /** Pids of the shard processes started so far, by process index. */
  pids(): number[] {
    return [...this.hosts.values()].sort((a, b) => a.index - b.index).map((h) => h.child.pid ?? -1);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.hosts.values()].map(async (h) => {
        send(h, { kind: 'close' });
        const timer = setTimeout(() => h.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
        await h.exited;
        clearTimeout(timer);
      }),
    );
  }

  private host(index: number): Host {
    const known = this.hosts.get(index);
    if (known) return known;
    const child = fork(packagePath('dist/cli/shard-process.js'), [String(this.opts.threadsPerProcess), String(this.opts.nice ?? 0)], {
      serialization: 'advanced',
      execArgv: this.opts.execArgv ?? SHARD_PROCESS_FLAGS,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: a Ctrl-C reaches the coordinator only, which stops the shards over
      // IPC. In the terminal's group, a shard still loading (before shard-process.ts can ignore
      // SIGINT) died of it and turned an interrupted run into a failed one. A shard process never
      // outlives the coordinator: it exits when the IPC channel closes.
      detached: true,
    });
    const host: Host = { index, child, pending: new Map(), exited: Promise.resolve() };
    const failAll = (why: string) => {
      for (const p of host.pending.values()) p.reject(new Error(`shard process ${index} (pid ${child.pid ?? '?'}) ${why}`));
      host.pending.clear();
    };
    host.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        failAll(`exited with ${signal ?? `code ${code}`} before its shards finished`);
        resolve();
      });
    });
    child.on('error', (err) => failAll(`failed: ${err.message}`));
    child.on('message', (m: HostToParent) => {
      switch (m.kind) {
        case 'message':
          host.pending.get(m.shard)?.onMessage(m.env);
          break;
        case 'done':
          host.pending.get(m.shard)?.resolve(m.launched);
          host.pending.delete(m.shard);
          break;
        case 'failed':
          host.pending.get(m.shard)?.reject(new Error(m.error));
          host.pending.delete(m.shard);
          break;
      }
    });
    this.hosts.set(index, host);
    return host;
  }
}

function send(h: Host, m: ParentToHost): void {
  if (h.child.connected) h.child.send(m);
}
