/**
 * A bare aedes broker on 127.0.0.1, port 0, no authentication: the in-process broker for
 * transport tests. aedes 1.x builds brokers with the async `Aedes.createBroker()` factory.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface TestAedes {
  url: string;
  port: number;
  broker: Aedes;
  /** From now on PUBLISH packets are never acknowledged (their authorization never completes). */
  stall(): void;
  /** Closes the broker, drops every socket (MQTT session or not) and stops listening. */
  close(): Promise<void>;
}

export interface StartAedesOptions {
  /** CONNECT with this username is refused with return code 4 (bad username or password). */
  refuseUsername?: string;
  /** A client that publishes loses its connection instead (a backend that drops sessions). */
  dropOnPublish?: boolean;
}

export async function startAedes(opts: StartAedesOptions = {}): Promise<TestAedes> {
  let stalled = false;
  const broker = await Aedes.createBroker({
    authenticate(_client, username, _password, done) {
      if (opts.refuseUsername !== undefined && username === opts.refuseUsername) {
        done(Object.assign(new Error('refused by test broker'), { returnCode: 4 as const }), null);
      } else {
        done(null, true);
      }
    },
    authorizePublish(client, _packet, callback) {
      if (opts.dropOnPublish) {
        client?.conn.destroy();
        return;
      }
      if (!stalled) callback(null);
    },
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    stall() {
      stalled = true;
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        // aedes.close ends MQTT clients only; sockets that never sent CONNECT are ours to drop.
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
