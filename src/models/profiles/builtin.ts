/**
 * The built-in hardware profiles, by name: a summary (name, arch, links) of the YAML profiles in
 * `profiles/*.yaml`, which are the source of truth (energy, radio, storage, each number with its
 * source). Scenario validation and resolution read the YAML through `scenario/profile-load.ts`
 * (`defaultProfileRegistry()`); models/ may not read files, so this table stays for pure code that
 * needs a profile's links without I/O. `test/unit/profiles.test.ts` keeps it equal to the YAML.
 */

/** Link models a fleet group may use (the names the link models will be keyed by). */
export const KNOWN_LINKS = ['ethernet', 'wifi', 'lte-cat4', 'lte-m', 'nb-iot', 'lorawan', 'satellite-geo', 'satellite-leo'] as const;
export type LinkName = (typeof KNOWN_LINKS)[number];

export interface BuiltinProfile {
  name: string;
  description: string;
  /** Instruction-set family, as an artifact build would name it. */
  arch: 'arm64' | 'xtensa' | 'armv8-m' | 'armv6-m';
  /** The link a fleet group gets when it does not name one. */
  defaultLink: LinkName;
  /** Links this hardware has a radio or port for. */
  links: readonly LinkName[];
}

export const BUILTIN_PROFILES: readonly BuiltinProfile[] = Object.freeze([
  {
    name: 'rpi4-gateway',
    description: 'Raspberry Pi 4 gateway: 4x Cortex-A72 1.5 GHz, 1-8 GB, microSD; 2.7-6.4 W, mains or PoE',
    arch: 'arm64',
    defaultLink: 'ethernet',
    links: ['ethernet', 'wifi'],
  },
  {
    name: 'jetson-orin-nano-edge',
    description: 'Jetson Orin Nano edge box: 6x Cortex-A78AE, 8 GB, NVMe; 7/15/25 W modes, mains',
    arch: 'arm64',
    defaultLink: 'lte-cat4',
    links: ['lte-cat4', 'ethernet', 'wifi'],
  },
  {
    name: 'esp32-wifi-sensor',
    description: 'ESP32 sensor: 2x LX6 240 MHz, 520 KB SRAM, 4 MB flash; Wi-Fi; 2xAA or 18650',
    arch: 'xtensa',
    defaultLink: 'wifi',
    links: ['wifi'],
  },
  {
    name: 'nrf9160-tracker',
    description: 'nRF9160 tracker: Cortex-M33 64 MHz, 1 MB flash / 256 KB RAM; LTE-M/NB-IoT; Li-SOCl2 or Li-ion',
    arch: 'armv8-m',
    defaultLink: 'nb-iot',
    links: ['nb-iot', 'lte-m'],
  },
  {
    name: 'lorawan-sensor',
    description: 'LoRaWAN sensor: STM32L0-class MCU + SX1276/SX1262; ER14505 2.6 Ah; EU868',
    arch: 'armv6-m',
    defaultLink: 'lorawan',
    links: ['lorawan'],
  },
].map((p) => Object.freeze({ ...p, links: Object.freeze([...p.links]) })) as BuiltinProfile[]);

const BY_NAME = new Map(BUILTIN_PROFILES.map((p) => [p.name, p]));

/** The profile of that name, or undefined when no profile has it. */
export function resolveProfileName(name: string): BuiltinProfile | undefined {
  return BY_NAME.get(name);
}

export function knownProfileNames(): string[] {
  return BUILTIN_PROFILES.map((p) => p.name);
}

export function knownLinkNames(): string[] {
  return [...KNOWN_LINKS];
}

export function isKnownLink(name: string): name is LinkName {
  return (KNOWN_LINKS as readonly string[]).includes(name);
}
