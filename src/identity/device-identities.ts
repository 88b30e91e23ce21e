import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FleetsimError } from '../errors/fleetsim-error.js';
import { Stream, uniform32 } from '../models/rng.js';
import { createFleetCa, issueCertificate, loadFleetCa, type FleetCa, type PemIdentity } from './x509.js';

/**
 * Where a shard's devices get their client certificates:
 * - `fleet-ca`: issued now by the run's fleet CA, with `CN` from `commonName` (`{serial}` is
 *   replaced); a fraction `untrusted` of the devices get theirs from a CA nobody trusts instead,
 *   to exercise the backend's refusals;
 * - `folder`: read from `<dir>/<serial>.crt` and `<dir>/<serial>.key` (PEM), made by the fleet's
 *   own PKI;
 * - `shared`: one identity for every device (AWS IoT's claim certificate: a device provisions with
 *   it, then connects with the certificate provisioning issued it).
 */
export type DeviceCertSource =
  | { kind: 'fleet-ca'; ca: PemIdentity; commonName: string; untrusted: number }
  | { kind: 'folder'; dir: string }
  | { kind: 'shared'; identity: PemIdentity };

/** Certificates issued at once: enough to keep WebCrypto's thread pool busy while ASN.1 encodes on this thread. */
const ISSUE_CONCURRENCY = 8;
/** The draw that decides whether a device's certificate is untrusted (Stream.failure, a counter of its own). */
const UNTRUSTED_DRAW = 0x7d00_0000;

/**
 * Each device's key and certificate for mutual TLS, indexed by shard-local device, made before
 * the run starts (`prepare`) so that issuing certificates never slows connects: a connect only
 * looks its identity up. Memory: the PEM strings, about 1 KB per device.
 */
export class DeviceIdentities {
  private constructor(private readonly pems: Array<PemIdentity | undefined>) {}

  identityOf(dev: number): PemIdentity | undefined {
    return this.pems[dev];
  }

  /** Every device's identity, by shard-local device (undefined: none). */
  all(): ReadonlyArray<PemIdentity | undefined> {
    return this.pems;
  }

  static async prepare(source: DeviceCertSource, opts: { firstDevice: number; count: number; seed: number; serialOf: (global: number) => string }): Promise<DeviceIdentities> {
    const pems = new Array<PemIdentity | undefined>(opts.count);
    if (source.kind === 'shared') return new DeviceIdentities(pems.fill(source.identity));
    if (source.kind === 'folder') {
      await forEachLimited(opts.count, ISSUE_CONCURRENCY, async (dev) => {
        pems[dev] = await readIdentity(source.dir, opts.serialOf(opts.firstDevice + dev));
      });
      return new DeviceIdentities(pems);
    }
    const ca = await loadFleetCa(source.ca);
    let rogue: FleetCa | undefined;
    if (source.untrusted > 0) rogue = await createFleetCa('fleetsim untrusted CA');
    await forEachLimited(opts.count, ISSUE_CONCURRENCY, async (dev) => {
      const g = opts.firstDevice + dev;
      const serial = opts.serialOf(g);
      const untrusted = rogue !== undefined && uniform32(opts.seed, g, Stream.failure, UNTRUSTED_DRAW) < source.untrusted;
      pems[dev] = await issueCertificate(untrusted ? rogue! : ca, source.commonName.replaceAll('{serial}', serial), { client: true });
    });
    return new DeviceIdentities(pems);
  }
}

async function readIdentity(dir: string, serial: string): Promise<PemIdentity> {
  const base = path.join(dir, serial);
  try {
    const [cert, key] = await Promise.all([readFile(`${base}.crt`, 'utf8'), readFile(`${base}.key`, 'utf8')]);
    return { cert, key };
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_TLS_FILE', `no certificate for device ${serial}: ${(err as Error).message}`, {
      hint: `put each device's PEM certificate and key in ${dir} as <serial>.crt and <serial>.key, or use deviceCerts: { fleetCa: {} }`,
    });
  }
}

/** Runs `task(i)` for i in [0, n) with at most `limit` in flight. */
async function forEachLimited(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}
