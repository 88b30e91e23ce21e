// The SimPy peer's configuration (bench/virtual_simpy.py), taken from fleetsim's own resolved
// scenario and models, so that both engines run one model: bench/virtual.mjs and
// bench/virtual-instructions.mjs. Needs `npm run build` (it reads dist/).
import { loadScenario } from '../../dist/scenario/load.js';
import { energyProfileOf } from '../../dist/models/hardware-profile.js';
import { arrivalStride } from '../../dist/models/arrival.js';
import { DEFAULT_BACKEND_MODEL } from '../../dist/drivers/model/backend-model.js';
import { DEFAULT_DOWNTIME_SHAPE } from '../../dist/models/outage.js';

/** `file`: a bench fleet YAML (bench/lib/virtual-fleet.mjs); `rng`: 'counter' (fleetsim's draws) or 'native'. */
export function simpyConfig(file, rng) {
  const s = loadScenario(file);
  const g = s.fleet[0];
  const hw = g.hardware;
  const ep = energyProfileOf(hw);
  const off = s.behaviour.offline;
  return {
    devices: s.devices,
    seed: s.seed,
    rng,
    durationMs: s.durationMs,
    arrivalRatePerSec: s.arrival.ratePerSec,
    arrivalStride: arrivalStride(s.devices),
    telemetry: { everyMs: s.behaviour.telemetry.everyMs, jitter: s.behaviour.telemetry.jitter },
    backend: DEFAULT_BACKEND_MODEL,
    energy: {
      sleepSourceW: (ep.statePowerW[0] + ep.boardOverheadW) / ep.eta,
      selfW: ep.selfDischargeW,
      invEta: 1 / ep.eta,
      capacityJ: ep.usableCapacityJ,
      steps: { boot: hw.events.boot, attach: hw.events.attach, uplink: hw.events.uplink, poll: hw.events.poll },
    },
    outage: { availability: off.availability, downMedianMs: off.downtime.median, downSigma: off.downtime.shape ?? DEFAULT_DOWNTIME_SHAPE.lognormal },
  };
}
