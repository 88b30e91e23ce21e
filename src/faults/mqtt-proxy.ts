import net from 'node:net';
import type { ActiveFaults } from './active-faults.js';
import { connack, connectClientId, packetLength, packetType, PacketType } from './mqtt-frames.js';
import type { FaultPhase } from './spec.js';

/** One proxied MQTT session: the device's socket, the broker's, and who the device is. */
interface Session {
  client: net.Socket;
  broker?: net.Socket;
  /** Global device index from the CONNECT's client id (-1: unknown or not yet seen). */
  dev: number;
  /** Bytes of a packet not complete yet, per direction. */
  fromClient: Buffer;
  fromBroker: Buffer;
  /** Blackhole phases already counted for this session. */
  holedBy: Set<number>;
}

/** What becomes of one packet: forwarded, discarded (or already written: a CONNECT), or the session ended. */
const enum Verdict {
  forward,
  skip,
  ended,
}

/**
 * The fault proxy's MQTT side: a TCP proxy on loopback (port 0) in front of one broker that
 * splits both directions into MQTT packets (mqtt-frames.ts), so it can refuse a CONNECT with a
 * CONNACK code, close sessions of the picked devices, drop the broker's PUBACKs and blackhole
 * sessions (whole packets are discarded both ways, the sockets stay open, so the stream is still
 * aligned when the partition heals). Devices are known by their CONNECT's client id.
 * Concurrency: single-threaded (the coordinator's event loop); a session's two directions only
 * share its `Session` record.
 */
export class FaultMqttProxy {
  private server?: net.Server;
  private readonly sessions = new Set<Session>();
  url = '';

  constructor(
    private readonly upstream: { host: string; port: number },
    private readonly faults: ActiveFaults,
  ) {
    faults.onChange((p, active) => {
      if (active && p.fault.target === 'mqtt' && p.fault.action.kind === 'disconnect') this.disconnectPicked(p);
    });
  }

  async start(): Promise<this> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return this;
  }

  /** Sessions open now (tests). */
  get open(): number {
    return this.sessions.size;
  }

  private accept(client: net.Socket): void {
    client.setNoDelay(true);
    const s: Session = { client, dev: -1, fromClient: EMPTY, fromBroker: EMPTY, holedBy: new Set() };
    this.sessions.add(s);
    client.on('data', (chunk: Buffer) => this.onData(s, true, chunk));
    client.on('error', () => this.end(s));
    client.on('close', () => this.end(s));
  }

  /**
   * Bytes from one side of a session: split into whole MQTT packets (what is left of an incomplete
   * one waits for the next chunk), each judged by its direction's rule, and those kept forwarded
   * in one write. A stream that is not MQTT (a malformed length) ends the session.
   */
  private onData(s: Session, fromClient: boolean, chunk: Buffer): void {
    const pending = fromClient ? s.fromClient : s.fromBroker;
    const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    const keep: Buffer[] = [];
    while (off < buf.length) {
      const len = packetLength(buf, off);
      if (len === -2) return this.end(s);
      if (len < 0) break;
      const packet = buf.subarray(off, off + len);
      off += len;
      const verdict = fromClient ? this.clientPacket(s, packet) : this.brokerPacket(s, packet);
      if (verdict === Verdict.ended) return;
      if (verdict === Verdict.forward) keep.push(packet);
    }
    const rest = off < buf.length ? Buffer.from(buf.subarray(off)) : EMPTY;
    if (fromClient) s.fromClient = rest;
    else s.fromBroker = rest;
    if (keep.length === 0) return;
    if (!fromClient) write(s.client, keep, s.broker!);
    else if (s.broker) write(s.broker, keep, s.client);
  }

  /** A packet from the device. */
  private clientPacket(s: Session, packet: Buffer): Verdict {
    if (s.broker === undefined) {
      // The first packet must be a CONNECT (MQTT 3.1.1 §3.1): decide the session's fate on it.
      if (packetType(packet, 0) !== PacketType.connect) {
        this.end(s);
        return Verdict.ended;
      }
      return this.onConnect(s, packet) ? Verdict.skip : Verdict.ended;
    }
    return this.holed(s) ? Verdict.skip : Verdict.forward;
  }

  /** Refuses, closes or forwards a CONNECT; false when the session ended. */
  private onConnect(s: Session, packet: Buffer): boolean {
    s.dev = this.faults.map.indexOf(connectClientId(packet));
    const counts = this.faults.counts;
    const refuse = this.faults.mqttFaults('refuse', s.dev)[0];
    if (refuse !== undefined && refuse.fault.action.kind === 'refuse') {
      counts.add(refuse.index, 'connack_refused', 'mqtt_connect');
      // The session stays in the set until the device closes it (or the proxy does).
      s.client.removeAllListeners('data');
      s.client.end(connack(refuse.fault.action.code));
      return false;
    }
    const cut = this.faults.mqttFaults('disconnect', s.dev)[0];
    if (cut !== undefined) {
      // While a disconnect phase lasts, the picked devices' new sessions end at once, as when a
      // broker goes away between accepting the socket and answering CONNECT.
      counts.add(cut.index, 'connect_closed', 'mqtt_connect');
      this.end(s);
      return false;
    }
    const broker = net.connect(this.upstream);
    broker.setNoDelay(true);
    s.broker = broker;
    broker.on('data', (chunk: Buffer) => this.onData(s, false, chunk));
    broker.on('error', () => this.end(s));
    broker.on('close', () => this.end(s));
    if (!this.holed(s)) write(broker, [packet], s.client);
    return true;
  }

  /** A packet from the broker. */
  private brokerPacket(s: Session, packet: Buffer): Verdict {
    if (this.holed(s)) return Verdict.skip;
    if (packetType(packet, 0) === PacketType.puback) {
      const drop = this.faults.mqttFaults('drop-pubacks', s.dev)[0];
      if (drop !== undefined) {
        this.faults.counts.add(drop.index, 'puback_dropped', 'mqtt_publish');
        return Verdict.skip;
      }
    }
    return Verdict.forward;
  }

  /** Whether a blackhole holds the session now (each phase counted once per session). */
  private holed(s: Session): boolean {
    const hs = this.faults.mqttFaults('blackhole', s.dev);
    if (hs.length === 0) return false;
    for (const h of hs) {
      if (s.holedBy.has(h.index)) continue;
      s.holedBy.add(h.index);
      this.faults.counts.add(h.index, 'session_blackholed', 'mqtt_session');
    }
    return true;
  }

  private disconnectPicked(p: FaultPhase): void {
    for (const s of [...this.sessions]) {
      if (s.broker === undefined || !this.faults.mqttPicks(p, s.dev)) continue;
      this.faults.counts.add(p.index, 'session_disconnected', 'mqtt_session');
      this.end(s);
    }
  }

  private end(s: Session): void {
    if (!this.sessions.delete(s)) return;
    s.client.destroy();
    s.broker?.destroy();
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) this.end(s);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const EMPTY = Buffer.alloc(0);

/** Writes packets; when the receiver's buffer is full, pauses the sender until it drains. */
function write(to: net.Socket, packets: Buffer[], from: net.Socket): void {
  const ok = to.write(packets.length === 1 ? packets[0] : Buffer.concat(packets));
  if (!ok && !from.isPaused()) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}
