// The coordinator's broker counter and device store, per telemetry message and per device: one
// local Mosquitto, a DeviceStore with N provisioned devices, the embedded backend's BrokerCounter
// subscribed to it, and a publisher process sending M telemetry messages (QoS 1, 200 B, the
// devices in turn, RATE per second) as the 500k run's devices do. It measures the CPU the
// counter's process spends per message (process.cpuUsage, from the first publish to the last
// message counted), the broker's CPU per message (/proc/PID/stat) and the store's memory per
// device (V8 heap + array buffers after a full GC, store and counts vs none), interleaving the
// baseline's dist and this one's, A B A B …. After `npm run build` (and in the baseline tree):
//   BASELINE_DIST=/tmp/base/dist N=38000 M=200000 RATE=8000 R=3 node --expose-gc bench/coordinator-counter.mjs
// VARIANTS: which runs make a pair (default base,q0,q1: the baseline's counter, this one at
// QoS 0, this one at QoS 1; the baseline's counter takes no QoS and subscribes at QoS 1).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envInt, machine, median } from './lib/common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const N = envInt('N', 38_000);
const M = envInt('M', 200_000);
const RATE = envInt('RATE', 8000);
const R = envInt('R', 3);
const DIST = path.resolve(process.env.DIST ?? path.join(here, '..', 'dist'));
const BASELINE_DIST = process.env.BASELINE_DIST ? path.resolve(process.env.BASELINE_DIST) : undefined;
const VARIANTS = (process.env.VARIANTS ?? (BASELINE_DIST ? 'base,q0,q1' : 'q0,q1')).split(',');
const SERIAL = (i) => `gw-${String(i).padStart(7, '0')}`;
const TICKS = 100; // /proc/PID/stat clock ticks per second (USER_HZ)

const procCpuS = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
};
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const heapBytes = () => {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Publisher process: M QoS 1 telemetry messages to `url`, devices in turn, paced at RATE per second. */
async function publisher(url, encodeTelemetry) {
  const u = new URL(url);
  const socket = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  const connect = Buffer.from([0x10, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 0x70, 0x75, 0x62, 0x31]);
  socket.write(connect);
  socket.on('data', () => {}); // CONNACK and PUBACKs: read and dropped
  socket.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
  const seqOf = new Uint32Array(N);
  let sent = 0;
  let id = 0;
  const start = performance.now();
  while (sent < M) {
    const due = Math.min(M, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    const parts = [];
    for (; sent < due; sent++) {
      const dev = sent % N;
      const topic = Buffer.from(`fleet/d-${SERIAL(dev)}/telemetry`);
      const payload = encodeTelemetry(seqOf[dev]++, Date.now(), 200);
      id = id === 65535 ? 1 : id + 1;
      const remaining = 2 + topic.length + 2 + payload.length;
      const head = Buffer.from([0x32, (remaining & 0x7f) | 0x80, remaining >> 7, topic.length >> 8, topic.length & 0xff]);
      parts.push(head, topic, Buffer.from([id >> 8, id & 0xff]), payload);
    }
    if (parts.length > 0) socket.write(Buffer.concat(parts));
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => socket.end(r));
  process.send?.({ sent });
}

/** One measured run in a fresh process: `variant` is base, q0 or q1. */
async function child(variant, dist) {
  const url = (p) => pathToFileURL(path.join(dist, p)).href;
  const { DeviceStore } = await import(url('backend/store.js'));
  const { BrokerCounter } = await import(url('backend/broker-counter.js'));
  const { startLocalMosquitto } = await import(url('drivers/mqtt/local-mosquitto.js'));
  const before = heapBytes();
  const store = new DeviceStore('fleet-key');
  for (let i = 0; i < N; i++) store.provision(SERIAL(i));
  const provisioned = heapBytes();
  const broker = await startLocalMosquitto({});
  const counter = variant === 'base' ? await BrokerCounter.start(store, [broker.url]) : await BrokerCounter.start(store, [broker.url], undefined, variant === 'q0' ? 0 : 1);
  const cpu0 = cpuS();
  const broker0 = procCpuS(broker.pid);
  const pub = fork(fileURLToPath(import.meta.url), ['--publish', broker.url, dist], { stdio: 'inherit' });
  const published = new Promise((r) => pub.once('exit', r));
  const deadline = Date.now() + (M / RATE) * 1000 * 3 + 60_000;
  while (counter.received < M && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu1 = cpuS();
  const broker1 = procCpuS(broker.pid);
  await published;
  await counter.settle();
  const totals = store.stats(false).totals;
  const counted = heapBytes();
  await counter.close();
  await broker.stop();
  return {
    variant,
    received: counter.received,
    storeReceived: totals.received,
    gaps: totals.gaps,
    coordinatorUsPerMsg: ((cpu1 - cpu0) / counter.received) * 1e6,
    brokerUsPerMsg: ((broker1 - broker0) / counter.received) * 1e6,
    storeBytesPerDevice: (provisioned - before) / N,
    storeWithCountsBytesPerDevice: (counted - before) / N,
  };
}

if (process.argv[2] === '--publish') {
  const { encodeTelemetry } = await import(pathToFileURL(path.join(process.argv[4], 'wire/reference-protocol.js')).href);
  await publisher(process.argv[3], encodeTelemetry);
} else if (process.argv[2] === '--child') {
  const r = await child(process.argv[3], process.argv[4]);
  console.log(JSON.stringify(r));
  process.exit(0);
} else {
  const { runChild } = await import('./lib/common.mjs');
  const runs = [];
  console.log(`# coordinator counter: N=${N} devices, M=${M} messages at ${RATE}/s; ${JSON.stringify(machine())}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let r = 0; r < R; r++) {
    for (const v of VARIANTS) {
      const dist = v === 'base' ? BASELINE_DIST : DIST;
      const res = await runChild(fileURLToPath(import.meta.url), ['--child', v, dist], ['--expose-gc']);
      runs.push(res);
      console.log(JSON.stringify(res));
    }
  }
  for (const v of VARIANTS) {
    const rs = runs.filter((x) => x.variant === v);
    const m = (k) => median(rs.map((x) => x[k])).toFixed(2);
    console.log(`${v}: median coordinator ${m('coordinatorUsPerMsg')} us/msg, broker ${m('brokerUsPerMsg')} us/msg, store ${m('storeBytesPerDevice')} B/device, with counts ${m('storeWithCountsBytesPerDevice')} B/device (n=${rs.length})`);
  }
  console.log(`# load after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
