import { expect } from 'vitest';
import type { RunResult } from '../../src/engine/coordinator.js';

/**
 * Per device, what the backend received must be exactly what the simulator counted as acked,
 * with one provisioning, no duplicate and no gap (needs `collectDeviceCounts: true`).
 */
export function expectBackendReconciles(result: RunResult, devices: number): void {
  const backend = result.backendDevices!;
  expect(backend).toHaveLength(devices);
  for (const d of backend) {
    expect(d.provisions, d.deviceId).toBe(1);
    expect(d.duplicates, d.deviceId).toBe(0);
    expect(d.gaps, d.deviceId).toBe(0);
    const g = Number(d.deviceId.slice(d.deviceId.lastIndexOf('-') + 1));
    expect(d.received, d.deviceId).toBe(result.deviceAcked!.get(g));
  }
  expect(result.summary.accounting.backend!.lostBetween).toBe(0);
}
