// The "bare" QoS 1 publisher used as the broker's ceiling in bench/telemetry: raw sockets, one
// precomputed PUBLISH template per connection, and for every read exactly one write holding one
// new PUBLISH per PUBACK received. Nothing in it is general; it exists to cost the client as
// little CPU as possible, so that what it measures is the broker.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

export function startRawPublishers({ host, port, connections, window, payload, onAck }) {
  const conns = [];
  let connected = 0;
  let running = true;
  let sent = 0;
  return new Promise((resolve, reject) => {
    for (let c = 0; c < connections; c++) {
      const topic = `fleet/raw-${c}/telemetry`;
      const template = mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false });
      const pidAt = template.length - payload.length - 2;
      const conn = { socket: net.connect({ host, port, noDelay: true }), nextId: 0, carry: Buffer.alloc(0), ready: false };
      const nextId = () => (conn.nextId = conn.nextId === 65535 ? 1 : conn.nextId + 1);
      const frames = (k) => {
        const out = Buffer.allocUnsafe(k * template.length);
        for (let i = 0; i < k; i++) {
          const at = i * template.length;
          template.copy(out, at);
          const id = nextId();
          out[at + pidAt] = id >> 8;
          out[at + pidAt + 1] = id & 0xff;
        }
        sent += k;
        return out;
      };
      conn.socket.on('error', reject);
      conn.socket.write(mqttPacket.generate({ cmd: 'connect', clientId: `raw-${c}`, protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60 }));
      conn.socket.on('data', (chunk) => {
        let buf = conn.carry.length ? Buffer.concat([conn.carry, chunk]) : chunk;
        let at = 0;
        let acks = 0;
        // Only CONNACK (4 bytes) and PUBACK (4 bytes) arrive on a publish-only connection.
        while (buf.length - at >= 4) {
          const type = buf[at] >> 4;
          if (type === 4) acks++;
          else if (type === 2 && !conn.ready) {
            conn.ready = true;
            if (++connected === connections) resolve(api);
          } else throw new Error(`unexpected packet type ${type}`);
          at += 4;
        }
        conn.carry = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
        if (acks > 0) {
          onAck(acks);
          if (running) conn.socket.write(frames(acks));
        }
      });
      conn.start = () => conn.socket.write(frames(window));
      conns.push(conn);
    }
    const api = {
      start: () => conns.forEach((c) => c.start()),
      stop: () => {
        running = false;
      },
      sent: () => sent,
      close: () => Promise.all(conns.map((c) => new Promise((r) => c.socket.once('close', r).destroy()))),
    };
  });
}
