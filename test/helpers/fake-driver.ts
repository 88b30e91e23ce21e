/**
 * A DeviceDriver for unit tests of fleet/: it records what it was asked and answers nothing by
 * itself. The test plays the backend, calling the lifecycle's DriverEvents when it chooses, so
 * every outcome (a 503, a refused CONNACK, an ack, a lost session) is one line of the test.
 * A device has a session from `openSession` until `disconnect` or `closeSession`.
 */
import type { DeviceDriver, DeviceStateReport, FleetOpsEvents, TelemetrySpec } from '../../src/drivers/types.js';

export interface Published {
  dev: number;
  seq: number;
  scheduledAtMs: number;
  qos: 0 | 1;
  token: number;
}

export type DriverCall = { op: 'provision' | 'connect' | 'poll' | 'disconnect' | 'ping'; dev: number };

export class FakeDriver implements DeviceDriver {
  readonly name = 'fake';
  /** What the platform under test does when a session comes up (DeviceDriver.pollsOnConnect). */
  pollsOnConnect = false;
  readonly calls: DriverCall[] = [];
  readonly published: Published[] = [];
  private readonly sessions = new Set<number>();
  fleetEvents: FleetOpsEvents | undefined;

  /** The calls of one kind, as device indices, in order. */
  devsOf(op: DriverCall['op']): number[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.dev);
  }
  openSession(dev: number): void {
    this.sessions.add(dev);
  }
  closeSession(dev: number): void {
    this.sessions.delete(dev);
  }
  hasSession(dev: number): boolean {
    return this.sessions.has(dev);
  }

  provision(dev: number): void {
    this.calls.push({ op: 'provision', dev });
  }
  connect(dev: number): void {
    this.calls.push({ op: 'connect', dev });
  }
  publishTelemetry(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number): boolean {
    if (!this.sessions.has(dev)) return false;
    this.published.push({ dev, seq, scheduledAtMs, qos: spec.qos, token });
    return true;
  }
  pollTarget(dev: number): void {
    this.calls.push({ op: 'poll', dev });
  }
  /** Recorded when the device has a session; the test answers (onPingResponse) or lets it go unanswered. */
  ping(dev: number): boolean {
    if (!this.sessions.has(dev)) return false;
    this.calls.push({ op: 'ping', dev });
    return true;
  }
  disconnect(dev: number): void {
    this.calls.push({ op: 'disconnect', dev });
    this.sessions.delete(dev);
  }
  attachFleetOps(events: FleetOpsEvents): void {
    this.fleetEvents = events;
  }
  beginArtifact(): void {}
  downloadChunk(): void {}
  verifyArtifact(): boolean {
    return true;
  }
  reportState(_dev: number, _report: DeviceStateReport): void {}
  replyCommand(dev: number): boolean {
    return this.sessions.has(dev);
  }
  ackConfig(dev: number): boolean {
    return this.sessions.has(dev);
  }
  reportEndOfLine(dev: number): boolean {
    return this.sessions.has(dev);
  }
  shipLogs(dev: number): boolean {
    return this.sessions.has(dev);
  }
  async close(): Promise<void> {
    this.sessions.clear();
  }
}
