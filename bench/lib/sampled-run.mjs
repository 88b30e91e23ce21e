// Runs `fleetsim run` as a child process and samples, every couple of seconds, the memory and CPU
// of its whole process tree: the coordinator (which also hosts the embedded backend), its shard
// processes and the Mosquitto brokers it started, plus the machine's memory and CPU.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processCpuMs, sleep } from './common.mjs';
import { memAvailableBytes, processTree, tcpBufferBytes } from './process-tree.mjs';

export const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** Busy and total CPU time of the whole machine so far, ms (/proc/stat: every process, ours or not). */
function machineCpuMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
}

/** Kernel counters that tell machine-wide stalls apart: major faults, slab, stall time (PSI, µs). */
function kernelCounters() {
  const vm = readFileSync('/proc/vmstat', 'utf8');
  const mem = readFileSync('/proc/meminfo', 'utf8');
  const num = (re, text) => Number(re.exec(text)?.[1] ?? NaN);
  const psi = (kind) => {
    try {
      return num(/^some .*total=(\d+)/m, readFileSync(`/proc/pressure/${kind}`, 'utf8'));
    } catch {
      return NaN;
    }
  };
  return {
    majorFaults: num(/^pgmajfault (\d+)/m, vm),
    slabKiB: num(/^Slab:\s+(\d+)/m, mem),
    stallCpuUs: psi('cpu'),
    stallIoUs: psi('io'),
    stallMemoryUs: psi('memory'),
  };
}

function sample(pid, memBefore) {
  const tree = processTree(pid);
  const coord = tree.find((p) => p.depth === 0);
  if (!coord) return undefined;
  const shards = tree.filter((p) => p.depth === 1 && p.comm.startsWith('node'));
  const brokers = tree.filter((p) => p.comm === 'mosquitto');
  const sum = (list, k) => list.reduce((a, p) => a + p[k], 0);
  const cpu = (list) => list.reduce((a, p) => a + (processCpuMs(p.pid) || 0), 0);
  return {
    at: Date.now(),
    coordinator: coord.rss,
    coordinatorPss: coord.pss,
    shards: sum(shards, 'rss'),
    shardsPss: sum(shards, 'pss'),
    shardsAnon: sum(shards, 'anon'),
    shardProcesses: shards.length,
    brokers: sum(brokers, 'rss'),
    brokersPss: sum(brokers, 'pss'),
    brokerCount: brokers.length,
    machineUsed: memBefore - memAvailableBytes(),
    cpuCoordinator: processCpuMs(coord.pid),
    cpuShards: cpu(shards),
    cpuBrokers: cpu(brokers),
    cpuMachine: machineCpuMs(),
    tcpBuffers: tcpBufferBytes(),
    kernel: kernelCounters(),
  };
}

/**
 * Runs `fleetsim run <args>` with reports under `dir`; the run's stderr goes to dir/run.log and
 * lines matching `echo` are echoed. Resolves with the exit code, the samples, and the report's
 * summary and timeline.
 */
export async function sampledRun(args, dir, { echo = /shard processes|local mosquitto|source addresses|error|warn/i, label = '', everyMs = 2000, coordinatorNice } = {}) {
  const memBefore = memAvailableBytes();
  const log = createWriteStream(path.join(dir, 'run.log'));
  const child = spawn(process.execPath, [CLI, 'run', ...args, '-o', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  let reniced = false;
  child.stderr.on('data', (d) => {
    log.write(d);

    for (const line of String(d).split('\n')) if (echo.test(line)) console.error(`  ${label}${line.slice(0, 300)}`);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  let done = false;
  void exited.then(() => (done = true));
  const samples = [];
  while (!done) {
    const s = sample(child.pid, memBefore);
    if (s) samples.push(s);
    // `coordinatorNice`: the coordinator's main thread only (it serves the embedded HTTP API), set
    // once its shard processes are started (two samples with the same count; processes forked
    // later would inherit it): on a box loaded by others, one thread's fair share can be below
    // what provisioning at the offered rate needs.
    const prev = samples[samples.length - 2];
    if (coordinatorNice !== undefined && !reniced && s && prev && s.shardProcesses > 0 && s.shardProcesses === prev.shardProcesses) {
      reniced = true;
      os.setPriority(child.pid, coordinatorNice);
      console.error(`  ${label}coordinator main thread (pid ${child.pid}) at nice ${coordinatorNice}, its ${s.shardProcesses} shard processes and brokers at their own`);
    }
    await sleep(everyMs);
  }
  const code = await exited;
  log.end();
  const reportDir = readdirSync(dir, { withFileTypes: true }).find((d) => d.isDirectory())?.name;
  if (!reportDir) throw new Error(`the run wrote no report (exit ${code}); see ${dir}/run.log`);
  const full = path.join(dir, reportDir);
  const summary = JSON.parse(readFileSync(path.join(full, 'summary.json'), 'utf8'));
  const timeline = readFileSync(path.join(full, 'timeline.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { code, samples, summary, timeline, reportDir: full };
}

/** CPU in cores (1.0 = one core busy) between two samples: ours by part, and the whole machine (which includes whatever else shares it). */
export function cpuCores(a, b) {
  if (!a || !b || b.at <= a.at) return null;
  const wall = b.at - a.at;
  const c = (k) => Math.max(0, (b[k] - a[k]) / wall);
  return {
    coordinator: c('cpuCoordinator'),
    shards: c('cpuShards'),
    brokers: c('cpuBrokers'),
    machine: (b.cpuMachine.busy - a.cpuMachine.busy) / wall,
    machineCapacity: (b.cpuMachine.total - a.cpuMachine.total) / wall,
  };
}

/** Peak memory over the run, MiB: summed RSS and PSS of our processes, and the machine's use. */
export function peakMemory(samples) {
  const MiB = 2 ** 20;
  const max = (f) => Math.max(...samples.map(f)) / MiB;
  return {
    simulatorRss: max((s) => s.coordinator + s.shards),
    simulatorPss: max((s) => s.coordinatorPss + s.shardsPss),
    allProcessesRss: max((s) => s.coordinator + s.shards + s.brokers),
    allProcessesPss: max((s) => s.coordinatorPss + s.shardsPss + s.brokersPss),
    machineUsed: max((s) => s.machineUsed),
    tcpBuffers: max((s) => s.tcpBuffers),
  };
}
