// Templated vs padded telemetry, side by side in one run: client CPU per QoS 1 message through the
// lean transport to a local Mosquitto (each run a fresh child process and a fresh broker, the two
// modes back to back, alternating which goes first), and the cost of making one payload alone
// (in process, alternating rounds). The template is bench/scenarios/template.yaml; padded
// payloads have the same size. After `npm run build`:
//   R=5 CONNS=50 WINDOW=10 SECONDS=3 node bench/template.mjs
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';
import { referencePreset } from '../dist/drivers/presets/reference.js';
import { loadScenario } from '../dist/scenario/load.js';
import { DeviceTable } from '../dist/fleet/device-table.js';
import { buildDeviceModels } from '../dist/engine/shard/device-models.js';
import { telemetryPayloads } from '../dist/engine/shard/telemetry-payloads.js';
import { envInt, machine, median, runChild } from './lib/common.mjs';

const reference = referencePreset({ fleetKey: '' });

const R = envInt('R', 5);
const CONNS = envInt('CONNS', 50);
const WINDOW = envInt('WINDOW', 10);
const WARMUP = envInt('WARMUP', 1);
const SECONDS = envInt('SECONDS', 3);
const MICRO = envInt('MICRO', 200_000);
const child = new URL('./telemetry-child.mjs', import.meta.url).pathname;

const s = loadScenario(new URL('./scenarios/template.yaml', import.meta.url).pathname);
const devices = new DeviceTable(100, 0);
const { models } = buildDeviceModels(s, devices);
const filler = telemetryPayloads(s, devices, models.energy, undefined);
const SIZE = filler.fill(0, 1000, 1_000_000).length;

console.log(JSON.stringify({ bench: 'template', R, CONNS, WINDOW, SIZE, WARMUP, SECONDS, MICRO, machine: machine() }));

// 1. Making a payload, nothing else: ns per message.
const micro = { padded: [], templated: [] };
const make = {
  padded: (dev, seq) => reference.telemetryPayload(seq, seq * 1000, SIZE),
  templated: (dev, seq) => filler.fill(dev, seq, seq * 1000),
};
let sink = 0;
for (let r = 0; r < R; r++) {
  for (const mode of r % 2 === 0 ? ['padded', 'templated'] : ['templated', 'padded']) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < MICRO; i++) sink += make[mode](i % 100, (i / 100) | 0).length; // each device its next message
    const c = process.cpuUsage(c0);
    micro[mode].push(((c.user + c.system) * 1000) / MICRO);
  }
}
if (sink === 0) throw new Error('nothing made');

// 2. End to end: client CPU per acked message through the lean transport.
const e2e = { padded: [], templated: [] };
for (let r = 0; r < R; r++) {
  for (const mode of r % 2 === 0 ? ['padded', 'templated'] : ['templated', 'padded']) {
    const broker = await startLocalMosquitto();
    try {
      const res = await runChild(child, [mode, broker.url, CONNS, WINDOW, SIZE, WARMUP, SECONDS, broker.pid]);
      e2e[mode].push(res);
      console.log(JSON.stringify({ run: r + 1, ...res }));
    } finally {
      await broker.stop();
    }
  }
}

const usPerMsg = (x) => (x.clientCpuPercent * 10_000) / x.msgsPerSec;
console.log(`\nmedians over ${R} rounds; payload ${SIZE} B; ${CONNS} connections x ${WINDOW} in flight, QoS 1`);
console.log('mode        make ns/msg   msg/s   client CPU %   client us/msg   runs (us/msg)');
const med = {};
for (const mode of ['padded', 'templated']) {
  const rs = e2e[mode];
  med[mode] = { make: median(micro[mode]), rate: median(rs.map((x) => x.msgsPerSec)), cpu: median(rs.map((x) => x.clientCpuPercent)), us: median(rs.map(usPerMsg)) };
  const m = med[mode];
  console.log(`${mode.padEnd(10)}${m.make.toFixed(0).padStart(12)}${m.rate.toFixed(0).padStart(9)}${m.cpu.toFixed(0).padStart(15)}${m.us.toFixed(2).padStart(16)}   ${rs.map((x) => usPerMsg(x).toFixed(2)).join(', ')}`);
  const closes = rs.every((x) => x.sent === x.ackedAtStop + x.inflightAtStop && x.unackedAfterDrain === 0 && !x.duplicates);
  console.log(`  ${mode}: sent = acked + in flight at stop, all acked after drain, no duplicates: ${closes ? 'holds' : 'BROKEN'} in every run`);
}
console.log(`templated / padded, client CPU per message end to end: ${(med.templated.us / med.padded.us).toFixed(2)}x (bar <= 1.3x)`);
console.log(`templated / padded, making the payload alone: ${(med.templated.make / med.padded.make).toFixed(2)}x`);
