// Telemetry benchmark: QoS 1 publish throughput against a local Mosquitto, the lean transport
// (driven through MqttTransport, one token per message) against a bare raw-socket client that
// saturates the broker. Each run is a fresh child process and a fresh broker. After `npm run build`:
//   R=7 CONNS=100 WINDOW=10 PAYLOAD=200 SECONDS=3 node bench/telemetry.mjs
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';
import { envInt, machine, median, runChild } from './lib/common.mjs';

const R = envInt('R', 7);
const CONNS = envInt('CONNS', 100);
const WINDOW = envInt('WINDOW', 10);
const PAYLOAD = envInt('PAYLOAD', 200);
const WARMUP = envInt('WARMUP', 1);
const SECONDS = envInt('SECONDS', 3);
const MODES = (process.env.MODES ?? 'raw,lean,mqttjs').split(',');
const child = new URL('./telemetry-child.mjs', import.meta.url).pathname;

console.log(JSON.stringify({ bench: 'telemetry', R, CONNS, WINDOW, PAYLOAD, WARMUP, SECONDS, machine: machine() }));
const results = Object.fromEntries(MODES.map((m) => [m, []]));
for (let r = 0; r < R; r++) {
  // raw and lean run back to back (alternating which goes first) so that each round's lean/raw
  // ratio is taken under nearly the same load from whatever else shares the machine.
  const pair = r % 2 === 0 ? ['raw', 'lean'] : ['lean', 'raw'];
  const order = [...pair.filter((m) => MODES.includes(m)), ...MODES.filter((m) => !pair.includes(m))];
  for (const mode of order) {
    const broker = await startLocalMosquitto();
    try {
      const res = await runChild(child, [mode, broker.url, CONNS, WINDOW, PAYLOAD, WARMUP, SECONDS, broker.pid]);
      results[mode].push(res);
      console.log(JSON.stringify({ run: r + 1, ...res }));
    } finally {
      await broker.stop();
    }
  }
}

console.log(`\nmedians over ${R} runs: ${CONNS} connections x ${WINDOW} in flight, ${PAYLOAD} B payload, QoS 1`);
console.log('mode        msg/s   client CPU %   client us/msg   broker CPU %   runs (msg/s)');
const med = {};
for (const mode of MODES) {
  const rs = results[mode];
  med[mode] = {
    rate: median(rs.map((x) => x.msgsPerSec)),
    cpu: median(rs.map((x) => x.clientCpuPercent)),
    brokerCpu: median(rs.map((x) => x.brokerCpuPercent)),
    // Client CPU per message: what the client itself costs, whatever else the box is doing.
    usPerMsg: median(rs.map((x) => (x.clientCpuPercent * 10_000) / x.msgsPerSec)),
  };
  const m = med[mode];
  console.log(
    `${mode.padEnd(8)}${m.rate.toFixed(0).padStart(9)}${m.cpu.toFixed(0).padStart(15)}${m.usPerMsg.toFixed(2).padStart(16)}` +
      `${m.brokerCpu.toFixed(0).padStart(15)}   ${rs.map((x) => x.msgsPerSec.toFixed(0)).join(', ')}`,
  );
}
for (const mode of MODES.filter((m) => m !== 'raw')) {
  const rs = results[mode];
  const closes = rs.every((x) => x.sent === x.ackedAtStop + x.inflightAtStop && x.unackedAfterDrain === 0 && !x.duplicates);
  console.log(`${mode}: accounting sent = acked + in flight at stop, all acked after drain, no duplicates: ${closes ? 'holds' : 'BROKEN'} in every run`);
}
if (med.raw && med.lean) {
  const ratio = med.lean.rate / med.raw.rate;
  const paired = median(results.lean.map((x, i) => x.msgsPerSec / results.raw[i].msgsPerSec));
  console.log(`\nlean / bare ceiling: ${(ratio * 100).toFixed(1)}% of medians, ${(paired * 100).toFixed(1)}% median of per-run ratios ` +
    `(bar >= 90%: ${paired >= 0.9 ? 'met' : 'MISSED'} on the paired ratio)`);
}
console.log(JSON.stringify({ medians: med }));
