import net from 'node:net';
import type { ActiveFaults } from './active-faults.js';
import type { FaultPhase, MqttFaultAction } from './spec.js';

/** The MQTT faults a proxy can inject into bytes it cannot read (TLS): close a connection, or stop its bytes. */
export const OPAQUE_MQTT_FAULTS: ReadonlyArray<MqttFaultAction['kind']> = ['disconnect', 'blackhole'];

/** One proxied connection and its draw number (connections, not devices, are picked: TLS hides the client id). */
interface Connection {
  client: net.Socket;
  broker: net.Socket;
  index: number;
  /** Blackhole phases holding it now. */
  heldBy: Set<number>;
}

/**
 * The fault proxy in front of an MQTT broker spoken to over TLS (mqtts://): it terminates nothing
 * and passes the encrypted bytes through untouched, so it can only act at the TCP level, on
 * whole connections: `disconnect` closes the picked connections at the phase start (and closes
 * new ones while the phase lasts), `blackhole` stops reading both sockets of the picked
 * connections (bytes stop both ways, the sockets stay open; TCP's own flow control holds the
 * rest, so the stream is intact and delivered late when the partition heals, as after a real
 * one). It cannot tell devices apart (the client id is inside TLS), so a phase picks a share of
 * connections, never a scope; CONNACK refusals and dropped PUBACKs need to read packets and are
 * refused for TLS targets (scenario/fault-checks.ts, engine/fault-injection.ts).
 * Concurrency: single-threaded (the coordinator's event loop).
 */
export class FaultTlsPassthrough {
  private server?: net.Server;
  private readonly conns = new Set<Connection>();
  private accepted = 0;
  url = '';

  constructor(
    private readonly upstream: { host: string; port: number },
    private readonly faults: ActiveFaults,
  ) {
    faults.onChange((p, active) => this.onPhase(p, active));
  }

  async start(): Promise<this> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `mqtts://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return this;
  }

  /** Connections open now (tests). */
  get open(): number {
    return this.conns.size;
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    const index = this.accepted++;
    const cut = this.faults.mqttPhases('disconnect').find((p) => this.faults.picksConnection(p, index));
    if (cut !== undefined) {
      this.faults.counts.add(cut.index, 'connect_closed', 'mqtt_connect');
      client.destroy();
      return;
    }
    const broker = net.connect(this.upstream);
    broker.setNoDelay(true);
    const c: Connection = { client, broker, index, heldBy: new Set() };
    this.conns.add(c);
    client.pipe(broker);
    broker.pipe(client);
    for (const s of [client, broker]) {
      s.on('error', () => this.end(c));
      s.on('close', () => this.end(c));
    }
    for (const p of this.faults.mqttPhases('blackhole')) if (this.faults.picksConnection(p, index)) this.hold(c, p);
  }

  private onPhase(p: FaultPhase, active: boolean): void {
    if (p.fault.target !== 'mqtt') return;
    const kind = p.fault.action.kind;
    for (const c of [...this.conns]) {
      if (!this.faults.picksConnection(p, c.index)) continue;
      if (kind === 'disconnect' && active) {
        this.faults.counts.add(p.index, 'session_disconnected', 'mqtt_session');
        this.end(c);
      } else if (kind === 'blackhole') {
        if (active) this.hold(c, p);
        else this.release(c, p);
      }
    }
  }

  private hold(c: Connection, p: FaultPhase): void {
    if (c.heldBy.has(p.index)) return;
    c.heldBy.add(p.index);
    this.faults.counts.add(p.index, 'session_blackholed', 'mqtt_session');
    // Unpiped and paused, neither side's bytes are read; what was in flight waits in the kernel's buffers.
    c.client.unpipe(c.broker);
    c.broker.unpipe(c.client);
    c.client.pause();
    c.broker.pause();
  }

  private release(c: Connection, p: FaultPhase): void {
    if (!c.heldBy.delete(p.index) || c.heldBy.size > 0 || !this.conns.has(c)) return;
    c.client.pipe(c.broker);
    c.broker.pipe(c.client);
  }

  private end(c: Connection): void {
    if (!this.conns.delete(c)) return;
    c.client.destroy();
    c.broker.destroy();
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) this.end(c);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
