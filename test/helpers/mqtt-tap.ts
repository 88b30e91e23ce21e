/**
 * A TCP relay between an MQTT client and a broker that reads the packets passing both ways
 * (mqtt-packet's parser), so a test can wait for what was said on the wire, e.g. keepalive
 * PINGREQ / PINGRESP exchanges, instead of sleeping for a while and hoping they happened.
 * Listens on 127.0.0.1, port 0.
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface MqttTap {
  url: string;
  /** Packets seen per command name ('pingreq', 'pingresp', ...), client to broker and back. */
  fromClient: Map<string, number>;
  fromBroker: Map<string, number>;
  /** Client to broker: the packets each read of each connection carried, e.g. [['connect', 'subscribe'], ['publish']]. */
  clientReads: string[][];
  close(): Promise<void>;
}

function counter(into: Map<string, number>, reads?: string[][]): (chunk: Buffer) => void {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let read: string[] = [];
  parser.on('packet', (p: { cmd: string }) => {
    into.set(p.cmd, (into.get(p.cmd) ?? 0) + 1);
    read.push(p.cmd); // the parser emits synchronously, inside parse() of the chunk that completed the packet
  });
  parser.on('error', () => {});
  return (chunk) => {
    read = [];
    parser.parse(chunk);
    if (read.length > 0) reads?.push(read);
  };
}

export async function startMqttTap(brokerPort: number): Promise<MqttTap> {
  const fromClient = new Map<string, number>();
  const fromBroker = new Map<string, number>();
  const clientReads: string[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect(brokerPort, '127.0.0.1');
    for (const s of [client, broker]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    const seeClient = counter(fromClient, clientReads);
    const seeBroker = counter(fromBroker);
    client.on('data', (d: Buffer) => {
      seeClient(d);
      broker.write(d);
    });
    broker.on('data', (d: Buffer) => {
      seeBroker(d);
      client.write(d);
    });
    client.once('close', () => broker.destroy());
    broker.once('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    fromClient,
    fromBroker,
    clientReads,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
