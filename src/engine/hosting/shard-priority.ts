import { writeFile } from 'node:fs/promises';
import os from 'node:os';

/**
 * CPU priority of shard processes when the coordinator hosts the embedded backend on the same box:
 * the load generator yields to the system under test, so a run measures the backend rather than
 * how much CPU fleetsim's own shards left it.
 *
 * Why it is needed: each shard process runs in its own session (process-shards.ts forks it
 * detached, so that a Ctrl-C reaches the coordinator only), and with CFS autogroups
 * (`/proc/sys/kernel/sched_autogroup_enabled`, on by default on desktop and many server kernels)
 * every session is its own scheduling group and the CPU is shared between groups first. With 26
 * shard processes and 27 local Mosquitto brokers the coordinator's group got about one share in
 * 54, 0.066 cores of the 2 the box had, both busy (bench/RESULTS.md, "Issue 17, round 4"), and a nice value of its
 * main thread did nothing against the other groups: the embedded HTTP API's accept queue filled
 * and provisioning timed out.
 *
 * What it does: every shard process takes nice n for its threads (worker threads inherit it) and
 * for its autogroup, with n the smallest niceness at which all shard processes together weigh no
 * more than one nice-0 thread or group (the coordinator's) in the kernel's CFS weights. When the
 * backend is busy it then gets at least half of the CPU the shards and it contend for; when it is
 * idle the shards use everything. A shard starved by it shows as schedule lag and as a saturated
 * generator in the report, never as the backend's fault.
 */

/** CFS weights of nice 0..19: `sched_prio_to_weight` in the Linux kernel's kernel/sched/core.c. */
const CFS_WEIGHT = [1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15];

/** Highest niceness (the kernel's MAX_NICE). */
const MAX_NICE = CFS_WEIGHT.length - 1;

/** The niceness at which `processes` shard processes together weigh no more than one nice-0 thread (at most 19). */
export function yieldingNice(processes: number): number {
  for (let n = 0; n < MAX_NICE; n++) if (processes * CFS_WEIGHT[n] <= CFS_WEIGHT[0]) return n;
  return MAX_NICE;
}

/** Where the autogroup of this process is (proc(5), "/proc/pid/autogroup"); tests point it elsewhere. */
const AUTOGROUP_FILE = '/proc/self/autogroup';

/** Attempts at writing the autogroup's niceness: without CAP_SYS_ADMIN the kernel allows one such write per 100 ms on the whole box (EAGAIN). */
const AUTOGROUP_TRIES = 50;
const AUTOGROUP_RETRY_MS = 100;

/**
 * Lowers this process's priority to `nice`: its calling thread at once (threads it starts later
 * inherit it; call it before starting worker threads), its autogroup on a later tick. Best effort:
 * a system without autogroups or that refuses the change leaves the process as it was (resolves
 * false). Concurrency: the main thread of a shard process, once, at start.
 */
export async function lowerPriority(nice: number, autogroupFile = AUTOGROUP_FILE): Promise<boolean> {
  if (nice <= 0) return true;
  let ok = true;
  try {
    os.setPriority(nice);
  } catch {
    ok = false;
  }
  for (let i = 0; i < AUTOGROUP_TRIES; i++) {
    try {
      await writeFile(autogroupFile, String(nice));
      return ok;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      await new Promise((r) => setTimeout(r, AUTOGROUP_RETRY_MS).unref());
    }
  }
  return false;
}
