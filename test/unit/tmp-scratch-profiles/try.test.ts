import { test } from 'vitest';
import { parseScenarioText, loadScenario } from '../../../src/scenario/load.js';
import { formatError } from '../../../src/errors/fleetsim-error.js';
test('try', () => {
  try { parseScenarioText(['name: big','duration: 10s','fleet: [{ profile: esp32-wifi-sensor, count: 30000 }]','arrival: { rate: 1000/s }','behaviour: { telemetry: { every: 1s } }','options: { http: { connections: per-device } }','phases: [{ at: 20s, outage: { fraction: 10% } }]'].join('\n')); } catch (e: any) { console.log(formatError(e)); }
  const s = loadScenario('test/fixtures/scenarios/valid/minimal.yaml'); console.log(s.fleet.map(({hardware, ...g}) => g));
});
