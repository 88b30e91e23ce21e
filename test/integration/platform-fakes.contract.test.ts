/** The PlatformFake contract (test/contracts/platform-fake.contract.ts) over every registered fake. */
import { describe, expect, it } from 'vitest';
import { PLATFORM_FAKES } from '../../src/backend/fakes/registry.js';
import { PLATFORM_FAKE_NAMES } from '../../src/wire/platform-fakes.js';
import { platformFakeContract } from '../contracts/platform-fake.contract.js';

describe('the registry of platform fakes', () => {
  it('has one fake per name, in the order of the names', () => {
    expect(PLATFORM_FAKES.map((f) => f.name)).toEqual([...PLATFORM_FAKE_NAMES]);
  });
});

for (const fake of PLATFORM_FAKES) platformFakeContract(fake);
