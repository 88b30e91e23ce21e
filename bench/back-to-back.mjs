// Two provisioning runs back to back against the embedded backend, as a sweep or a CI job runs
// them: does the second run measure the backend, or what the first one left in the kernel?
// A TCP connection's TIME_WAIT (60 s on Linux) stays with the side that closed first. Past
// 12,000 devices per broker address a run binds its MQTT sockets to loopback source addresses
// (scenario/port-budget.ts), and every bind() scans past the ports other sockets hold on that
// address, those in TIME_WAIT included. So each cycle waits until the machine has under
// QUIET_TIME_WAIT connections in TIME_WAIT, runs once, and at once runs again.
// Each run is bench/fleet-ops-provision.mjs in a fresh process (CPU of every thread and child
// process per device, from just before the run to the last end-of-line ack).
//   DEVICES=15000 CYCLES=3 [BASELINE_DIST=<another build's dist/>] node bench/back-to-back.mjs
// With BASELINE_DIST, every cycle runs the pair on both builds, alternating which goes first.
import os from 'node:os';
import path from 'node:path';
import { envInt, machine, median, runChild, sleep, tcpTable } from './lib/common.mjs';

const DEVICES = envInt('DEVICES', 15_000);
const CYCLES = envInt('CYCLES', 3);
const RATE = envInt('RATE', 2500);
/** A cycle starts once fewer connections than this are in TIME_WAIT (the box's own background). */
const QUIET_TIME_WAIT = envInt('QUIET_TIME_WAIT', 1000);
/** TIME_WAIT lasts 60 s; give up waiting for it after this. */
const QUIET_DEADLINE_MS = 120_000;
const here = path.dirname(new URL(import.meta.url).pathname);
const CHILD = path.join(here, 'fleet-ops-provision.mjs');
const builds = [{ name: 'this checkout', dist: undefined }];
if (process.env.BASELINE_DIST) builds.push({ name: `baseline ${process.env.BASELINE_DIST}`, dist: process.env.BASELINE_DIST });

/** Connections in TIME_WAIT on this machine (IPv4 and IPv6). */
const timeWait = () => tcpTable().filter((s) => s.state === '06').length;

async function quiet() {
  const deadline = Date.now() + QUIET_DEADLINE_MS;
  while (timeWait() >= QUIET_TIME_WAIT && Date.now() < deadline) await sleep(1000);
  return timeWait();
}

async function run(build, r) {
  const before = timeWait();
  const x = await runChild(CHILD, [JSON.stringify({ target: 'embedded', rate: RATE, run: r, broker: 'lean', devices: DEVICES, maxS: 120, dist: build.dist })]);
  const c = x.cpuBreakdownMsPerDevice;
  return {
    timeWaitBefore: before,
    timeWaitAfter: timeWait(),
    devicesPerSec: x.devicesPerSec,
    cpuMsPerDevice: x.cpuMsPerDevice,
    // The shard threads or processes: where the devices' connects and binds are made.
    devicesSideMsPerDevice: +(c.shardThreads + c.children).toFixed(4),
    backendMsPerDevice: c.main,
    provisionFailures: x.retries.provision,
    connectFailures: x.retries.mqttConnect,
    load1: x.load1,
  };
}

console.log(JSON.stringify({ bench: 'back-to-back', DEVICES, CYCLES, RATE, QUIET_TIME_WAIT, builds: builds.map((b) => b.name), machine: machine(), load: os.loadavg() }));
const results = new Map(builds.map((b) => [b.name, []]));
for (let cycle = 0; cycle < CYCLES; cycle++) {
  const order = cycle % 2 === 0 ? builds : [...builds].reverse();
  for (const build of order) {
    const quietAt = await quiet();
    const first = await run(build, 2 * cycle);
    const second = await run(build, 2 * cycle + 1);
    const pair = { cycle: cycle + 1, build: build.name, quietAt, first, second, secondOverFirstCpu: +(second.cpuMsPerDevice / first.cpuMsPerDevice).toFixed(3) };
    results.get(build.name).push(pair);
    console.log(JSON.stringify(pair));
  }
}
for (const [name, pairs] of results) {
  const m = (f) => median(pairs.map(f));
  console.log(
    JSON.stringify({
      build: name,
      medians: {
        firstDevicesPerSec: m((p) => p.first.devicesPerSec),
        secondDevicesPerSec: m((p) => p.second.devicesPerSec),
        firstDevicesSideMsPerDevice: m((p) => p.first.devicesSideMsPerDevice),
        secondDevicesSideMsPerDevice: m((p) => p.second.devicesSideMsPerDevice),
        timeWaitBeforeSecond: m((p) => p.second.timeWaitBefore),
        secondOverFirstCpu: m((p) => p.secondOverFirstCpu),
      },
    }),
  );
}
console.log(JSON.stringify({ loadAfter: os.loadavg() }));
