/**
 * The DeviceDriver contract (src/drivers/types.ts), written once and run over every driver: what
 * fleet/'s lifecycle and telemetry pipeline rely on to close their accounting.
 *
 * - A driver never calls back from inside one of its own methods (checked on every call).
 * - Every started operation ends in exactly one callback: provision, connect, poll, state report
 *   and artifact chunk each get one answer; a QoS 1 telemetry message gets one ack or its
 *   session's one loss; QoS 0 and refused publishes get nothing.
 * - provision -> connect -> publish (QoS 0 and 1) -> poll -> disconnect behave as documented.
 * - A backend that fails is reported in callbacks that carry the cause (an HTTP status, a CONNACK
 *   code, a lost session), never by throwing.
 *
 * A driver is run by a harness (`DriverFactory`) that owns its clock: real time and real sockets
 * for the wire driver, the virtual scheduler for the model driver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOST_CLOSED_BY_BROKER, LOST_KEEPALIVE_TIMEOUT, LOST_PROTOCOL, LOST_RESET, LOST_TCP_TIMEOUT, NO_HINT, POLL_CHANGED, POLL_UNCHANGED, type ConfigChange, type DeviceCommand, type DeviceDriver, type DriverEvents, type FleetOpsEvents, type Heard, type UpdateOffer } from '../../src/drivers/types.js';
import { guardSynchronousCallbacks } from '../helpers/sync-guard.js';

/** Every cause onConnectionLost may carry (drivers/types.ts). */
const LOST_CAUSES = [LOST_CLOSED_BY_BROKER, LOST_RESET, LOST_TCP_TIMEOUT, LOST_KEEPALIVE_TIMEOUT, LOST_PROTOCOL];

/** What the backend behind the driver does: answer, fail every operation, or drop sessions that publish. */
export type BackendBehaviour = 'healthy' | 'failing' | 'dropping';

export interface DriverHarness {
  /** The driver as fleet/ sees it. */
  driver: DeviceDriver;
  /** A token for a new QoS 1 message of `dev`, from the caller's in-flight bookkeeping. */
  token(dev: number): number;
  /** Lets the driver's time pass until `cond` holds; rejects at a deadline. */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Lets whatever the driver still has pending run its course: the barrier for "nothing more follows". */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Builds a driver for `devices` devices that reports to `events` (and fleet operations to
 * `fleetEvents`), over a backend that behaves as asked. The harness, not the driver, does what
 * the caller of a driver must do (e.g. close acked tokens in the model driver's ack ledger).
 */
export type DriverFactory = (devices: number, events: DriverEvents, fleetEvents: FleetOpsEvents, backend: BackendBehaviour) => Promise<DriverHarness>;

type Callback = { name: string; dev: number; args: unknown[] };

/** Records every callback, and counts those that arrived while a driver method was running. */
class CallbackLog implements DriverEvents, FleetOpsEvents {
  readonly calls: Callback[] = [];
  insideCall = false;
  synchronous: string[] = [];

  private add(name: string, dev: number, args: unknown[]): void {
    if (this.insideCall) this.synchronous.push(`${name}(${dev})`);
    this.calls.push({ name, dev, args });
  }
  of(name: string, dev?: number): Callback[] {
    return this.calls.filter((c) => c.name === name && (dev === undefined || c.dev === dev));
  }

  onProvisioned(dev: number, status: number, retryAfterMs: number): void {
    this.add('onProvisioned', dev, [status, retryAfterMs]);
  }
  onConnected(dev: number, ok: boolean, code: number): void {
    this.add('onConnected', dev, [ok, code]);
  }
  onTelemetryAcked(dev: number, token: number): void {
    this.add('onTelemetryAcked', dev, [token]);
  }
  onConnectionLost(dev: number, reason: string, cause: number): void {
    this.add('onConnectionLost', dev, [reason, cause]);
  }
  onPolled(dev: number, status: number, retryAfterMs: number, nextPollMs: number): void {
    this.add('onPolled', dev, [status, retryAfterMs, nextPollMs]);
  }
  onUpdateOffered(dev: number, offer: UpdateOffer, heard: Heard): void {
    this.add('onUpdateOffered', dev, [offer, heard]);
  }
  onConfigChanged(dev: number, change: ConfigChange, heard: Heard): void {
    this.add('onConfigChanged', dev, [change, heard]);
  }
  onCommand(dev: number, command: DeviceCommand): void {
    this.add('onCommand', dev, [command]);
  }
  onDownloadChunk(dev: number, status: number, bytes: number): void {
    this.add('onDownloadChunk', dev, [status, bytes]);
  }
  onStateReported(dev: number, status: number): void {
    this.add('onStateReported', dev, [status]);
  }
  onFleetPublishAcked(dev: number, token: number): void {
    this.add('onFleetPublishAcked', dev, [token]);
  }
  onPingResponse(dev: number): void {
    this.add('onPingResponse', dev, []);
  }
}

const DEVICES = 4;
const ALL = Array.from({ length: DEVICES }, (_, dev) => dev);
const is2xx = (status: unknown) => typeof status === 'number' && status >= 200 && status < 300;

export function deviceDriverContract(name: string, factory: DriverFactory): void {
  describe(`DeviceDriver contract: ${name}`, () => {
    let harness: DriverHarness | undefined;
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });

    async function open(backend: BackendBehaviour = 'healthy'): Promise<{ h: DriverHarness; d: DeviceDriver; log: CallbackLog }> {
      const log = new CallbackLog();
      harness = await factory(DEVICES, log, log, backend);
      return { h: harness, d: guardSynchronousCallbacks(harness.driver, log), log };
    }

    /** Provisions and connects every device (both asserted healthy). */
    async function online(): Promise<{ h: DriverHarness; d: DeviceDriver; log: CallbackLog }> {
      const o = await open();
      for (const dev of ALL) o.d.provision(dev, `contract-${dev}`);
      await o.h.until(() => o.log.of('onProvisioned').length === DEVICES, 'every onProvisioned');
      for (const dev of ALL) o.d.connect(dev);
      await o.h.until(() => o.log.of('onConnected').length === DEVICES, 'every onConnected');
      expect(o.log.of('onConnected').every((c) => c.args[0] === true && c.args[1] === 0)).toBe(true);
      return o;
    }

    it('provisions every device: exactly one onProvisioned each, 2xx, never synchronously', async () => {
      const { h, d, log } = await open();
      for (const dev of ALL) d.provision(dev, `contract-${dev}`);
      expect(log.calls).toEqual([]);
      await h.until(() => log.of('onProvisioned').length === DEVICES, 'every onProvisioned');
      await h.settle();
      for (const dev of ALL) {
        const answers = log.of('onProvisioned', dev);
        expect(answers, `device ${dev}`).toHaveLength(1);
        expect(is2xx(answers[0].args[0]) && answers[0].args[0] !== 202, `status ${answers[0].args[0]}`).toBe(true);
      }
      expect(log.calls).toHaveLength(DEVICES);
      expect(log.synchronous).toEqual([]);
    });

    it('connects provisioned devices: exactly one onConnected(ok, 0) each', async () => {
      const { h, log } = await online();
      await h.settle();
      for (const dev of ALL) expect(log.of('onConnected', dev), `device ${dev}`).toHaveLength(1);
      expect(log.of('onConnectionLost')).toEqual([]);
      expect(log.synchronous).toEqual([]);
    });

    it('acks each QoS 1 message exactly once with its device and token; QoS 0 is sent and nothing follows', async () => {
      const { h, d, log } = await online();
      const tokens = new Map<number, number>();
      for (let i = 0; i < 3; i++) {
        for (const dev of ALL) {
          const token = h.token(dev);
          tokens.set(token, dev);
          expect(d.publishTelemetry(dev, i, 0, { size: 64, qos: 1 }, token)).toBe(true);
        }
      }
      for (const dev of ALL) expect(d.publishTelemetry(dev, 10, 0, { size: 64, qos: 0 }, -1)).toBe(true);
      await h.until(() => log.of('onTelemetryAcked').length === tokens.size, 'every ack');
      await h.settle();
      const acks = log.of('onTelemetryAcked');
      expect(acks).toHaveLength(tokens.size);
      expect(new Set(acks.map((a) => a.args[0])).size).toBe(tokens.size);
      for (const a of acks) expect(a.dev).toBe(tokens.get(a.args[0] as number));
      // Acks of one session come in send order.
      for (const dev of ALL) {
        const order = log.of('onTelemetryAcked', dev).map((a) => a.args[0] as number);
        expect(order).toEqual([...tokens].filter(([, dv]) => dv === dev).map(([t]) => t));
      }
      expect(log.of('onConnectionLost')).toEqual([]);
      expect(log.synchronous).toEqual([]);
    });

    it('refuses to publish without a session: false, and nothing follows', async () => {
      const { h, d, log } = await open();
      expect(d.publishTelemetry(0, 0, 0, { size: 64, qos: 1 }, h.token(0))).toBe(false);
      expect(d.publishTelemetry(0, 1, 0, { size: 64, qos: 0 }, -1)).toBe(false);
      d.provision(1, 'contract-1');
      await h.until(() => log.of('onProvisioned').length === 1, 'onProvisioned');
      // Provisioned but not connected: still no session.
      expect(d.publishTelemetry(1, 0, 0, { size: 64, qos: 1 }, h.token(1))).toBe(false);
      await h.settle();
      expect(log.calls.map((c) => c.name)).toEqual(['onProvisioned']);
    });

    it('pings: false without a session and nothing follows; on a session, exactly one onPingResponse per PINGREQ', async () => {
      const { h, d, log } = await online();
      d.disconnect(3);
      expect(d.ping(3)).toBe(false);
      for (const dev of [0, 1, 2]) expect(d.ping(dev)).toBe(true);
      expect(d.ping(0)).toBe(true);
      await h.until(() => log.of('onPingResponse').length === 4, 'every onPingResponse');
      await h.settle();
      expect(log.of('onPingResponse').map((c) => c.dev).sort()).toEqual([0, 0, 1, 2]);
      expect(log.of('onConnectionLost')).toEqual([]);
      expect(log.synchronous).toEqual([]);
    });

    it('polls: exactly one onPolled per poll, changed or unchanged, with a numeric next-poll hint; changes only after changed', async () => {
      const { h, d, log } = await online();
      for (const dev of ALL) d.pollTarget(dev);
      expect(log.of('onPolled')).toEqual([]);
      await h.until(() => log.of('onPolled').length === DEVICES, 'every onPolled');
      d.pollTarget(2);
      await h.until(() => log.of('onPolled').length === DEVICES + 1, 'the second poll');
      await h.settle();
      expect(log.of('onPolled')).toHaveLength(DEVICES + 1);
      for (const p of log.of('onPolled')) {
        const [status, , hint] = p.args;
        expect([POLL_CHANGED, POLL_UNCHANGED]).toContain(status);
        expect(typeof hint === 'number' && (hint === NO_HINT || hint >= 0), `hint ${hint}`).toBe(true);
      }
      // What changed follows its poll's answer at once; an unchanged target carries nothing.
      const calls = log.calls;
      calls.forEach((c, i) => {
        if (c.name !== 'onUpdateOffered' && c.name !== 'onConfigChanged') return;
        const before = calls.slice(0, i).reverse().find((p) => p.dev === c.dev && (p.name === 'onPolled' || p.name === 'onCommand'));
        if (c.args[1] === 'poll') expect(before?.args[0]).toBe(POLL_CHANGED);
      });
      expect(log.synchronous).toEqual([]);
    });

    it('disconnects gracefully: no onConnectionLost, publish refused, and the device connects again', async () => {
      const { h, d, log } = await online();
      d.disconnect(1);
      expect(d.publishTelemetry(1, 5, 0, { size: 64, qos: 1 }, h.token(1))).toBe(false);
      expect(d.publishTelemetry(1, 6, 0, { size: 64, qos: 0 }, -1)).toBe(false);
      await h.settle();
      expect(log.of('onConnectionLost')).toEqual([]);
      d.connect(1);
      await h.until(() => log.of('onConnected', 1).length === 2, 'the second connect');
      expect(log.of('onConnected', 1)[1].args).toEqual([true, 0]);
      const token = h.token(1);
      expect(d.publishTelemetry(1, 7, 0, { size: 64, qos: 1 }, token)).toBe(true);
      await h.until(() => log.of('onTelemetryAcked', 1).length === 1, 'the ack on the new session');
      expect(log.of('onTelemetryAcked', 1)[0].args).toEqual([token]);
      expect(log.synchronous).toEqual([]);
    });

    it('fleet operations: a state report and an artifact chunk each end in exactly one callback', async () => {
      const { h, d, log } = await online();
      d.reportState(0, { release: 'contract-r1', status: 'idle' });
      d.beginArtifact(1);
      d.downloadChunk(1, { name: 'no-such-artifact', arch: 'arm64', kind: 'full', size: 1024, sha256: '' }, 0, 1024);
      await h.until(() => log.of('onStateReported').length === 1 && log.of('onDownloadChunk').length === 1, 'both answers');
      await h.settle();
      expect(log.of('onStateReported', 0)).toHaveLength(1);
      expect(log.of('onDownloadChunk', 1)).toHaveLength(1);
      expect(typeof log.of('onStateReported', 0)[0].args[0]).toBe('number');
      expect(log.synchronous).toEqual([]);
    });

    it('a failing backend: every operation still ends in exactly one callback, which carries the cause; nothing throws', async () => {
      const { h, d, log } = await open('failing');
      for (const dev of ALL) d.provision(dev, `contract-${dev}`);
      await h.until(() => log.of('onProvisioned').length === DEVICES, 'every onProvisioned');
      for (const dev of ALL) d.connect(dev);
      for (const dev of ALL) d.pollTarget(dev);
      await h.until(() => log.of('onConnected').length === DEVICES && log.of('onPolled').length === DEVICES, 'every connect and poll answer');
      for (const dev of ALL) expect(d.publishTelemetry(dev, 0, 0, { size: 64, qos: 1 }, h.token(dev))).toBe(false);
      await h.settle();
      for (const dev of ALL) {
        const [prov] = log.of('onProvisioned', dev);
        expect(is2xx(prov.args[0]), `provision status ${prov.args[0]}`).toBe(false);
        const conns = log.of('onConnected', dev);
        expect(conns).toHaveLength(1);
        expect(conns[0].args[0]).toBe(false);
        expect(conns[0].args[1]).not.toBe(0);
        const polls = log.of('onPolled', dev);
        expect(polls).toHaveLength(1);
        expect([200, 304]).not.toContain(polls[0].args[0]);
      }
      expect(log.of('onTelemetryAcked')).toEqual([]);
      expect(log.calls).toHaveLength(3 * DEVICES);
      expect(log.synchronous).toEqual([]);
    });

    it('a session the backend drops: its QoS 1 message gets no ack, one onConnectionLost with a reason, then publish is refused', async () => {
      const { h, d, log } = await open('dropping');
      d.provision(0, 'contract-0');
      await h.until(() => log.of('onProvisioned').length === 1, 'onProvisioned');
      d.connect(0);
      await h.until(() => log.of('onConnected').length === 1, 'onConnected');
      expect(log.of('onConnected')[0].args).toEqual([true, 0]);
      expect(d.publishTelemetry(0, 0, 0, { size: 64, qos: 1 }, h.token(0))).toBe(true);
      await h.until(() => log.of('onConnectionLost').length === 1, 'onConnectionLost');
      await h.settle();
      const [lost] = log.of('onConnectionLost');
      expect(lost.dev).toBe(0);
      expect(String(lost.args[0]).length).toBeGreaterThan(0);
      expect(LOST_CAUSES).toContain(lost.args[1]);
      expect(log.of('onTelemetryAcked')).toEqual([]);
      expect(log.of('onConnectionLost')).toHaveLength(1);
      expect(d.publishTelemetry(0, 1, 0, { size: 64, qos: 1 }, h.token(0))).toBe(false);
      expect(log.synchronous).toEqual([]);
    });
  });
}
