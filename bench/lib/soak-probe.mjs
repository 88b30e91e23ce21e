// Loaded into every Node process and thread of a soak run through NODE_OPTIONS=--import (the shard
// processes inherit the environment), so the soak bench sees what /proc cannot: V8's heap and the
// event-loop delay. Every FLEETSIM_SOAK_PROBE_MS it appends one line to
// $FLEETSIM_SOAK_PROBE_DIR/probe-<pid>-<threadId>.ndjson and resets the delay histogram, so each line
// covers one interval. Does nothing without FLEETSIM_SOAK_PROBE_DIR. The timer is unref'd: the probe
// never keeps a process alive.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const dir = process.env.FLEETSIM_SOAK_PROBE_DIR;
if (dir) {
  const everyMs = Number(process.env.FLEETSIM_SOAK_PROBE_MS) || 60_000;
  const file = path.join(dir, `probe-${process.pid}-${threadId}.ndjson`);
  // The histogram records the interval between timer firings, so its values include the sampling
  // period; the probe reports the delay beyond it.
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  const ms = (ns) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  const tick = () => {
    const heap = v8.getHeapStatistics();
    const line = {
      at: Date.now(),
      pid: process.pid,
      threadId,
      main: isMainThread,
      script: path.basename(process.argv[1] ?? ''),
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
      external: heap.external_memory,
      ...(isMainThread ? { arrayBuffers: process.memoryUsage().arrayBuffers } : {}),
      loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean) },
    };
    delay.reset();
    try {
      appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      // the bench removed its directory: nothing left to report to
    }
  };
  setInterval(tick, everyMs).unref();
}
