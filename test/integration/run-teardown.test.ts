import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { requireMosquitto } from '../helpers/mosquitto.js';

/**
 * A run that fails after it started local things must stop them: here launching the shards
 * throws after the local Mosquitto broker and the embedded backend are up (as a worker that
 * cannot start would), and afterwards no broker process of ours is left and nothing listens on
 * the ports the run logged.
 */
const scenario = `
name: it-teardown
seed: 3
duration: 5s
target: { mqtt: local-mosquitto, brokers: 1 }
fleet:
  - { profile: esp32-wifi-sensor, count: 4, link: wifi }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 1s, size: 64B, qos: 1 }
`;

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Our child processes named mosquitto (pgrep exits 1 when there is none). */
function mosquittoChildren(): string[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'mosquitto'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe.runIf(requireMosquitto())('run teardown', () => {
  it('a launch that throws after the broker started leaves no broker process or listener behind', async () => {
    const lines: string[] = [];
    const s = parseScenarioText(scenario, 'it-teardown.yaml');
    let brokersAtLaunch: string[] = [];
    const run = runScenario(s, {
      workers: 1,
      runId: 'it-teardown',
      log: (l) => lines.push(l),
      launch: () => {
        brokersAtLaunch = mosquittoChildren();
        throw new Error('cannot start a worker (injected)');
      },
    });
    await expect(run).rejects.toThrow(/injected/);
    // The failure came after the target was up: a broker ran and its port and the backend's were logged.
    expect(brokersAtLaunch.length).toBe(1);
    const ports = lines.flatMap((l) => [...l.matchAll(/(?:mqtt|http):\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
    expect(ports.length).toBeGreaterThanOrEqual(2);
    expect(mosquittoChildren()).toEqual([]);
    for (const port of ports) expect(await listening(port), `port ${port}`).toBe(false);
  });
});
