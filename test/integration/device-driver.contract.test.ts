/**
 * The DeviceDriver contract suite (test/contracts/device-driver.contract.ts) over both drivers:
 * the wire driver against the embedded backend on loopback (port 0), real sockets and real time;
 * and the model driver on the virtual scheduler, simulated time.
 */
import { startEmbeddedBackend } from '../../src/backend/index.js';
import { DEFAULT_BACKEND_MODEL } from '../../src/drivers/model/backend-model.js';
import type { BackendOp, BackendSpec } from '../../src/models/backend-queue.js';
import { ModelDriver } from '../../src/drivers/model/model-driver.js';
import { freePort } from '../../src/drivers/mqtt/local-mosquitto.js';
import { referencePreset } from '../../src/drivers/presets/reference.js';
import type { DriverEvents, TelemetrySpec } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { VirtualScheduler } from '../../src/engine/clock/virtual-scheduler.js';
import { DeviceTable } from '../../src/fleet/device-table.js';
import { InflightTable } from '../../src/fleet/inflight.js';
import { deviceDriverContract, type BackendBehaviour, type DriverHarness } from '../contracts/device-driver.contract.js';
import { startAedes } from '../helpers/aedes.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

const FLEET_KEY = 'contract-fleet-key';

for (const mqttClient of ['lean', 'mqttjs'] as const) {
  deviceDriverContract(`wire driver (${mqttClient} MQTT client) x embedded backend`, async (devices, events, fleetEvents, backend): Promise<DriverHarness> => {
    // healthy: the embedded backend's API and broker. failing: every HTTP route answers 503 and the
    // broker port is closed. dropping: a broker that cuts a client's connection when it publishes.
    const be = await startEmbeddedBackend({ fleetKey: FLEET_KEY, mqtt: backend === 'healthy' });
    const dropper = backend === 'dropping' ? await startAedes({ dropOnPublish: true }) : undefined;
    if (backend === 'failing') be.setFaults({ provision: { status: 503 }, target: { status: 503 }, state: { status: 503 }, artifact: { status: 503 } });
    const mqttUrl = backend === 'healthy' ? be.mqttUrl : dropper ? dropper.url : `mqtt://127.0.0.1:${await freePort()}`;
    const driver = new WireDriver(
      {
        httpUrl: be.httpUrl,
        mqttUrl,
        preset: referencePreset({ fleetKey: FLEET_KEY }),
        devices,
        mqttClient,
        // Each MQTT client is paired with one of the HTTP clients, so the suite covers both of each.
        http: { client: mqttClient === 'lean' ? 'lean' : 'undici', connections: 'pooled', poolSize: 4 },
        keepaliveSec: 30,
        callerPings: true, // as shards run it: the fleet sends the PINGREQs
        connectTimeoutMs: 5000,
        httpTimeoutMs: 5000,
      },
      events,
    );
    driver.attachFleetOps(fleetEvents);
    let nextToken = 0;
    return {
      driver,
      token: () => nextToken++,
      until: (cond, what) => waitFor(cond, what),
      settle: () => eventLoopTurns(3),
      async close() {
        await driver.close();
        await dropper?.close();
        await be.close();
      },
    };
  });
}

const failAll = (spec: BackendSpec, ops: BackendOp[]): BackendSpec => {
  const out = { ...spec, ops: { ...spec.ops } };
  for (const op of ops) out.ops[op] = { ...spec.ops[op], failure: 1 };
  return out;
};

deviceDriverContract('model driver x virtual scheduler', async (devices, events, fleetEvents, backend: BackendBehaviour): Promise<DriverHarness> => {
  const spec =
    backend === 'failing' ? failAll(DEFAULT_BACKEND_MODEL, ['provision', 'connect', 'publish', 'poll']) : backend === 'dropping' ? failAll(DEFAULT_BACKEND_MODEL, ['publish']) : DEFAULT_BACKEND_MODEL;
  // The caller's duties toward the ack ledger, as fleet/telemetry-pipeline.ts does them: a token
  // is closed when its message is acked, refused, or lost with its session.
  const ledger = new InflightTable(new DeviceTable(devices, 0));
  const duties: DriverEvents = {
    ...events,
    onProvisioned: (dev, status, retry) => events.onProvisioned(dev, status, retry),
    onConnected: (dev, ok, code) => events.onConnected(dev, ok, code),
    onPolled: (dev, status, retry, hint) => events.onPolled(dev, status, retry, hint),
    onPingResponse: (dev) => events.onPingResponse?.(dev),
    onTelemetryAcked(dev, token) {
      ledger.close(token);
      events.onTelemetryAcked(dev, token);
    },
    onConnectionLost(dev, reason, cause) {
      ledger.closeAllOf(dev);
      events.onConnectionLost(dev, reason, cause);
    },
  };
  class CallerModelDriver extends ModelDriver {
    override publishTelemetry(dev: number, seq: number, at: number, s: TelemetrySpec, token: number): boolean {
      const sent = super.publishTelemetry(dev, seq, at, s, token);
      if (!sent && token >= 0) ledger.close(token);
      return sent;
    }
  }
  let driver!: CallerModelDriver;
  const clock = new VirtualScheduler((kind, dev) => {
    if (driver.owns(kind)) driver.handle(kind, dev);
  });
  driver = new CallerModelDriver(spec, devices, 0, 11, clock, duties);
  driver.useAckLedger(ledger);
  driver.attachFleetOps(fleetEvents);
  /** Simulated time a condition may take before the harness gives up. */
  const DEADLINE_MS = 600_000;
  const STEP_MS = 5;
  return {
    driver,
    token: (dev) => ledger.open(dev, Float64Array.of(clock.now(), clock.now())),
    async until(cond, what) {
      const deadline = clock.now() + DEADLINE_MS;
      while (!cond()) {
        if (clock.pending === 0) throw new Error(`nothing left to run and still waiting for ${what}`);
        if (clock.now() >= deadline) throw new Error(`${DEADLINE_MS} simulated ms passed waiting for ${what}`);
        clock.runUntil(clock.now() + STEP_MS, STEP_MS, () => {});
      }
    },
    async settle() {
      // Every pending event, however late: nothing the driver started is left behind.
      while (clock.pending > 0) clock.runUntil(clock.now() + DEADLINE_MS, DEADLINE_MS, () => {});
    },
    close: () => driver.close(),
  };
});
