// Connect benchmark: connect rate and RSS per idle connected device, against a local Mosquitto.
// Each run is a fresh child process (clean RSS) and a fresh broker. Run after `npm run build`:
//   N=15000 R=3 CONCURRENCY=100 node bench/connect.mjs
// CONCURRENCY (connects outstanding) defaults to 100: Mosquitto listens with a short accept
// queue, and beyond it the kernel drops handshakes that then wait for a 1 s SYN retransmit, which
// measures the kernel's timer rather than the client (the `listenOverflows` column shows it).
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';
import { connectMedians, envInt, listenOverflows, machine, runChild } from './lib/common.mjs';

const N = envInt('N', 15_000);
const R = envInt('R', 3);
const CONCURRENCY = envInt('CONCURRENCY', 100);
const MODES = (process.env.MODES ?? 'bare-mqttjs,lean,mqttjs').split(',');
const child = new URL('./connect-child.mjs', import.meta.url).pathname;

console.log(JSON.stringify({ bench: 'connect', N, R, CONCURRENCY, machine: machine() }));
const results = Object.fromEntries(MODES.map((m) => [m, []]));
for (let r = 0; r < R; r++) {
  // Rotate the order so that no mode always runs first (or last) on a warm box.
  const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]);
  for (const mode of order) {
    const broker = await startLocalMosquitto({ maxConnections: N + 100 });
    try {
      const overflowsBefore = listenOverflows();
      const res = await runChild(child, [mode, broker.url, N, CONCURRENCY], ['--expose-gc']);
      // Connects the broker's accept queue dropped (each costs a 1 s SYN retransmit).
      res.listenOverflows = listenOverflows() - overflowsBefore;
      results[mode].push(res);
      console.log(JSON.stringify({ run: r + 1, ...res }));
    } finally {
      await broker.stop();
    }
  }
}

const fmt = (x, d = 0) => x.toFixed(d).padStart(10);
console.log('\nmedians over', R, 'runs, N =', N, ', concurrency =', CONCURRENCY);
console.log('mode          connects/s  RSS B/dev  marginal RSS  heap B/dev  ext B/dev   failed');
const med = {};
for (const mode of MODES) {
  const rs = results[mode];
  med[mode] = connectMedians(rs);
  const m = med[mode];
  console.log(`${mode.padEnd(12)}${fmt(m.rate)}${fmt(m.rss)}${fmt(m.marginalRss, 0).padStart(14)}${fmt(m.heap, 0).padStart(12)}${fmt(m.ext)}${fmt(m.failed)}`);
}
if (med.lean && med['bare-mqttjs']) {
  const ratio = med.lean.rate / med['bare-mqttjs'].rate;
  console.log(`\nlean / bare mqtt.js connect rate: ${ratio.toFixed(2)}x (bar >= 1.5x: ${ratio >= 1.5 ? 'met' : 'MISSED'})`);
  const verdict = (b) => (b <= 4096 ? 'met' : 'MISSED');
  console.log(`lean RSS per idle device: ${(med.lean.rss / 1024).toFixed(2)} KiB whole-run (bar <= 4 KB: ${verdict(med.lean.rss)}), ` +
    `${(med.lean.marginalRss / 1024).toFixed(2)} KiB marginal (${verdict(med.lean.marginalRss)})`);
  console.log(`bare mqtt.js / lean RSS per device: ${(med['bare-mqttjs'].rss / med.lean.rss).toFixed(2)}x`);
}
console.log(JSON.stringify({ medians: med }));
