/** Recording MqttTransportEvents for transport tests, and the sockets a test has open. */
import net from 'node:net';
import type { MqttTransportEvents } from '../../src/drivers/types.js';
import { RawTcpSocket } from '../../src/drivers/mqtt/raw-tcp-socket.js';

export { guardSynchronousCallbacks } from './sync-guard.js';

export class EventLog implements MqttTransportEvents {
  readonly connects: { dev: number; ok: boolean; code: number }[] = [];
  readonly acks: { dev: number; token: number }[] = [];
  readonly lost: { dev: number; reason: string; cause: number }[] = [];
  readonly messages: { dev: number; topic: string; payload: Buffer }[] = [];
  readonly pingResponses: number[] = [];
  /** Callbacks made while a transport method was still running (the contract forbids it). */
  syncCallbacks = 0;
  insideCall = false;

  onConnect(dev: number, ok: boolean, code: number): void {
    this.check();
    this.connects.push({ dev, ok, code });
  }
  onPublishAck(dev: number, token: number): void {
    this.check();
    this.acks.push({ dev, token });
  }
  onConnectionLost(dev: number, reason: string, cause: number): void {
    this.check();
    this.lost.push({ dev, reason, cause });
  }
  onMessage(dev: number, topic: string, payload: Buffer): void {
    this.check();
    this.messages.push({ dev, topic, payload });
  }
  onPingResponse(dev: number): void {
    this.check();
    this.pingResponses.push(dev);
  }
  private check(): void {
    if (this.insideCall) this.syncCallbacks++;
  }
}

/**
 * Open client sockets of this process whose remote port is `port` (process._getActiveHandles,
 * undocumented but stable): net.Sockets, and the raw sockets of the lean MQTT transport's plain-TCP
 * sessions (listed by their owner object, drivers/mqtt/raw-tcp-socket.ts).
 *
 * Sockets a server of this process accepted (an in-process aedes) are left out. Their remote port
 * is the client's, and a client bound to another loopback address (127.0.0.2) may get the listening
 * port's number as its own: the kernel checks a bind against that address only.
 */
function openSocketsTo(port: number): { remotePort?: number; localAddress?: string; localPort?: number }[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (h): h is net.Socket | RawTcpSocket =>
      ((h instanceof net.Socket && !acceptedByServer(h)) || h instanceof RawTcpSocket) && h.remotePort === port,
  );
}

/** An accepted socket carries the server that accepted it (node:net sets `server` on it). */
function acceptedByServer(socket: net.Socket): boolean {
  return (socket as net.Socket & { server?: net.Server | null }).server != null;
}

export function socketsTo(port: number): number {
  return openSocketsTo(port).length;
}

/** Local ports of this process's open sockets to `port`. */
export function localPortsTo(port: number): number[] {
  return openSocketsTo(port).map((s) => s.localPort ?? 0);
}

/** Source addresses of this process's open sockets to `port`. */
export function localAddressesTo(port: number): string[] {
  return openSocketsTo(port).map((s) => s.localAddress ?? '');
}
