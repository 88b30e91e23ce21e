import { describe, expect, it } from 'vitest';
import { DeviceStore } from '../../src/backend/store.js';

describe('DeviceStore keys', () => {
  it('gives every device its own 128-bit key, across refills of the random pool', () => {
    const store = new DeviceStore('fleet-key');
    const keys = new Set<string>();
    // 256 keys per draw: 600 devices cross two refills.
    for (let i = 0; i < 600; i++) {
      const rec = store.provision(`sn-${i}`);
      expect(rec.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
      keys.add(rec.key);
    }
    expect(keys.size).toBe(600);
    // Re-provisioning keeps the key, so a device that lost the answer still holds a working one.
    const first = [...keys][7];
    expect(store.provision('sn-7').key).toBe(first);
    expect(store.authenticate(DeviceStore.deviceIdFor('sn-7'), first)?.serial).toBe('sn-7');
    expect(store.authenticate(DeviceStore.deviceIdFor('sn-7'), [...keys][8])).toBeUndefined();
  });
});
