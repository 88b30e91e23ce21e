import { expect } from 'vitest';
import type { RunResult } from '../../src/engine/coordinator.js';

/**
 * Per device, what the simulator counted as acked equals what the backend received, every device
 * was provisioned once, with no gaps or duplicates. Needs a run with collectDeviceCounts.
 */
export function expectReconciledPerDevice(result: RunResult, devices: number): void {
  const backend = result.backendDevices!;
  expect(backend).toHaveLength(devices);
  expect(result.deviceAcked!.size).toBe(devices);
  for (const d of backend) {
    expect(d.provisions, d.deviceId).toBe(1);
    expect(d.gaps, d.deviceId).toBe(0);
    expect(d.duplicates, d.deviceId).toBe(0);
    const g = Number(d.deviceId.slice(d.deviceId.lastIndexOf('-') + 1));
    expect(d.received, d.deviceId).toBe(result.deviceAcked!.get(g));
  }
  expect(result.summary.accounting.backend!.lostBetween).toBe(0);
}
