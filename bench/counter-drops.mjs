// What Mosquitto drops for a subscriber that does not read, and whether its $SYS count says so
// (backend/count-confirmation.ts relies on it). A local Mosquitto with fleetsim's config and a
// small max_queued_messages; a QoS 0 subscriber on fleet/+/telemetry; a publisher in a child
// process sends N messages of SIZE bytes at QoS 1 (all acknowledged) while this process is blocked
// (spawnSync), so the subscriber reads nothing meanwhile. Prints what arrived and $SYS's count.
// After `npm run build`:
//   MQ=5 N=400 SIZE=20000 node bench/counter-drops.mjs
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startLocalMosquitto } = await import(pathToFileURL(path.join(root, 'dist/drivers/mqtt/local-mosquitto.js')).href);
const MQ = Number(process.env.MQ ?? 5);
const N = Number(process.env.N ?? 400);
const SIZE = Number(process.env.SIZE ?? 20_000);

const broker = await startLocalMosquitto({ maxQueuedMessages: MQ });
const sub = await mqtt.connectAsync(broker.url, { clientId: 'bench-sub', reconnectPeriod: 0 });
let got = 0;
let dropped = '(never published)';
sub.on('message', (topic, payload) => {
  if (topic.startsWith('$SYS')) dropped = String(payload);
  else got++;
});
await sub.subscribeAsync('fleet/+/telemetry', { qos: 0 });
const script = `const mqtt = (await import('mqtt')).default;
const c = await mqtt.connectAsync(${JSON.stringify(broker.url)}, { clientId: 'bench-pub', reconnectPeriod: 0 });
const pad = 'x'.repeat(${SIZE});
await Promise.all(Array.from({ length: ${N} }, (_, s) => c.publishAsync('fleet/d-1/telemetry', '{"seq":' + s + ',"p":"' + pad + '"}', { qos: 1 })));
await c.endAsync();`;
const pub = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
if (pub.status !== 0) throw new Error(`publisher failed: ${pub.stderr}`);
// Let the subscriber drain, then read the drop count (retained; $SYS every second).
await new Promise((r) => setTimeout(r, 1500));
await sub.subscribeAsync('$SYS/broker/publish/messages/dropped', { qos: 0 });
await new Promise((r) => setTimeout(r, 1500));
console.log(JSON.stringify({ maxQueuedMessages: MQ, published: N, size: SIZE, arrived: got, sysDropped: dropped }));
await sub.endAsync(true);
await broker.stop();
