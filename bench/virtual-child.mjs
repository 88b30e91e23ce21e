// One fleetsim virtual-clock run in its own process (bench/virtual.mjs starts it), so that its peak
// RSS (process.resourceUsage().maxRSS, all worker threads included) belongs to this run alone.
// Usage: node bench/virtual-child.mjs SCENARIO.yaml WORKERS [cpu-profile-dir]
// FLEETSIM_BENCH_EAGER_ACKS=1: every ack a queued event (RunOptions.eagerAcks; bench/virtual-ab.mjs).
import { loadScenario } from '../dist/scenario/load.js';
import { runScenario } from '../dist/engine/coordinator.js';

const [file, workers, profileDir] = process.argv.slice(2);
const t0 = performance.now();
const scenario = loadScenario(file);
const eagerAcks = process.env.FLEETSIM_BENCH_EAGER_ACKS === '1';
const result = await runScenario(scenario, { workers: Number(workers), runId: 'bench-virtual', eagerAcks, ...(profileDir ? { profile: 'cpu', profileDir } : {}) });
const wallMs = performance.now() - t0;
const ru = process.resourceUsage();
const s = result.summary;
const c = s.counters;
console.log(
  JSON.stringify({
    devices: s.run.devices,
    workers: s.run.workers,
    status: s.run.status,
    verdict: s.result.verdict,
    accountingHolds: s.accounting.holds,
    // Load + run + summary, in this process (node start-up excluded: the parent measures that too).
    wallMs,
    runWallMs: s.run.wallMs,
    events: s.run.events,
    deferredEvents: result.deferredEvents,
    cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000,
    maxRssKiB: ru.maxRSS,
    // Pages the run touched for the first time (a fault each, dear in a VM: ~10 µs on the bench box).
    minorFaults: ru.minorPageFault,
    counters: {
      powered_on: c['devices.powered_on'],
      provision_ok: c['provision.ok'],
      connect_ok: c['mqtt.connect.ok'],
      generated: c['telemetry.generated'],
      sent: c['telemetry.sent'],
      acked: c['telemetry.acked'],
      failed: c['telemetry.failed'],
      link_down: c['link.down'],
      link_up: c['link.up'],
    },
  }),
);
