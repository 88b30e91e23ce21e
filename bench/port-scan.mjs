// What one more connection costs the kernel as ports fill up: opens N TCP connections to one
// loopback listener, unbound (the kernel picks the port per destination) or bound to one source
// address, and prints the wall and system CPU time of every 1,000. The thresholds fleetsim plans
// with (src/scenario/port-budget.ts) come from here. After `npm run build` is not even needed:
//   MODE=unbound N=17000 node bench/port-scan.mjs
//   MODE=bound ADDRESS=127.0.0.9 N=12000 node bench/port-scan.mjs
// The listener runs in a child process (both ends in one process would need 2N descriptors).
import { fork } from 'node:child_process';
import net from 'node:net';
import { envInt } from './lib/common.mjs';

if (process.argv[2] === 'listener') {
  const held = [];
  const server = net.createServer((s) => {
    held.push(s);
    s.on('error', () => {});
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else {
  const N = envInt('N', 17_000);
  const MODE = process.env.MODE ?? 'unbound';
  const ADDRESS = process.env.ADDRESS ?? '127.0.0.9';
  const CONCURRENCY = envInt('CONCURRENCY', 20);
  const listener = fork(new URL(import.meta.url).pathname, ['listener']);
  const port = await new Promise((r) => listener.once('message', r));
  const range = (await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim();
  console.log(JSON.stringify({ bench: 'port-scan', MODE, N, ADDRESS: MODE === 'bound' ? ADDRESS : undefined, range }));
  const sockets = [];
  let started = 0;
  let ok = 0;
  let failed = 0;
  let t = performance.now();
  let cpu = process.cpuUsage();
  const rows = [];
  await new Promise((resolve) => {
    const open = () => {
      if (started >= N) return;
      started++;
      const s = net.connect({ port, host: '127.0.0.1', localAddress: MODE === 'bound' ? ADDRESS : undefined });
      sockets.push(s);
      s.once('connect', () => settle(true));
      s.once('error', () => settle(false));
    };
    const settle = (good) => {
      if (good) ok++;
      else failed++;
      const done = ok + failed;
      if (done % 1000 === 0) {
        const c = process.cpuUsage(cpu);
        rows.push({ connections: done, wallMs: Math.round(performance.now() - t), systemCpuMs: Math.round(c.system / 1000), failed });
        console.log(JSON.stringify(rows[rows.length - 1]));
        t = performance.now();
        cpu = process.cpuUsage();
      }
      if (done === N) resolve();
      else open();
    };
    for (let i = 0; i < CONCURRENCY; i++) open();
  });
  // Reset rather than close: no TIME_WAIT left behind to skew the next run.
  for (const s of sockets) s.resetAndDestroy();
  listener.disconnect();
  const first = rows.slice(0, 5);
  const last = rows.slice(-3);
  const avg = (rs) => rs.reduce((a, r) => a + r.systemCpuMs, 0) / rs.length / 1000;
  console.log(`${MODE}: system CPU per connect ${avg(first).toFixed(3)} ms for the first 5,000, ${avg(last).toFixed(3)} ms for the last 3,000; ${failed} failed`);
}
