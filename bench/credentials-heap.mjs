// Heap bytes per device held by the wire driver's credential table (drivers/device-credentials.ts),
// built the way a shard builds it: the serial as fleet/provisioning.ts makes it, the embedded
// backend's provisioning answer (a JSON string) decoded by the reference preset, the credentials
// issued, and the telemetry topic and authorization read once each (what telemetry and a poll do).
// Live heap plus array buffers after full GCs, before and after, divided by N. After `npm run build`:
//   node --expose-gc bench/credentials-heap.mjs [distDir] [N]
// distDir defaults to ./dist (compare an older build's copy side by side, interleaved).
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const N = Number(process.argv[3] ?? 19_000);
const { DeviceCredentialTable } = await import(pathToFileURL(path.join(dist, 'drivers/device-credentials.js')).href);
const { referencePreset } = await import(pathToFileURL(path.join(dist, 'drivers/presets/reference.js')).href);

const preset = referencePreset({ fleetKey: 'bench-fleet-key' });
const prefix = 'bench-connected';
const first = 38_000; // the second shard process's devices: six-digit indices
// The backend's answers, made before measuring (in the shard they arrive as response bodies).
const keys = randomBytes(16 * N);
const bodies = [];
for (let dev = 0; dev < N; dev++) {
  const serial = `${prefix}-${first + dev}`;
  bodies.push(JSON.stringify({ deviceId: `d-${serial}`, deviceKey: keys.toString('base64url', 16 * dev, 16 * dev + 16) }));
}
const live = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  // Typed arrays' and Buffers' bytes live outside the V8 heap (arrayBuffers): count both.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
let table;
const before = live();
table = new DeviceCredentialTable(preset, N);
let sink = 0;
for (let dev = 0; dev < N; dev++) {
  const serial = `${prefix}-${first + dev}`;
  table.rememberSerial(dev, serial);
  table.issue(dev, preset.decodeProvision(bodies[dev], serial));
  sink += table.telemetryTopic(dev).length + table.authorization(dev).length;
}
globalThis.credentialTable = table; // kept for a heap snapshot taken after this script (see bench/RESULTS.md)
const after = live();
bodies.length = 0;
const perDevice = (after - before) / N;
// The answers' own strings are live in both `before` and `after`: they cancel out.
console.log(JSON.stringify({ dist: path.relative(process.cwd(), dist) || '.', N, bytesPerDevice: Math.round(perDevice * 10) / 10, load1: os.loadavg()[0], sink: sink > 0, table: table !== undefined }));
