import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { DeviceStore } from '../backend/store.js';
import { MARKER_TOPICS, SYS_DROPPED, SYS_UPTIME } from '../backend/count-confirmation.js';
import { FleetsimError } from '../errors/fleetsim-error.js';
import { createFleetCa, issueCertificate, loadFleetCa, type FleetCa, type PemIdentity } from '../identity/x509.js';
import type { ResolvedTls } from '../scenario/resolved.js';
import type { ShardTls } from './shard/task.js';

/** The CN of the subscriber that counts a local Mosquitto's telemetry (allowed to read every device's topic). */
export const COUNTER_IDENTITY = 'fleetsim-counter';

/** TLS a run needs, made before it starts: what shards get, and the local brokers' side of it. */
export interface PreparedTls {
  shard: ShardTls;
  /** The TLS listener (and ACL) of local Mosquitto processes fleetsim starts. */
  mosquitto?: { tls: { ca: string; cert: string; key: string; requireCertificate: boolean }; acl?: string };
  /** The counting subscriber's client identity and trust (local Mosquitto with client certificates). */
  counter?: { ca: string; key?: string; cert?: string };
  /** Things the report must say about how the run was secured (insecure). */
  warnings: string[];
}

/**
 * Prepares the run's TLS: the fleet CA (loaded from, or created in, `fleetCa.dir`; else new for
 * this run), a server certificate for local Mosquitto, and where devices' certificates come from.
 * Device certificates themselves are issued by each shard before the run starts.
 */
export async function prepareTls(t: ResolvedTls, localBroker: boolean): Promise<PreparedTls> {
  const warnings: string[] = [];
  if (t.insecure) warnings.push('TLS server certificates were not verified (target.tls.insecure: true); use this against test servers only.');
  const dc = t.deviceCerts;
  const needCa = dc?.kind === 'fleet-ca' || localBroker;
  const ca = needCa ? await fleetCa(dc?.kind === 'fleet-ca' ? dc.dir : undefined) : undefined;
  // A local broker presents a certificate from the fleet CA; devices trust it (and any bundle given).
  const trust = localBroker ? [ca!.pem.cert, t.ca].filter((x): x is string => x !== undefined).join('\n') : t.ca;
  const shard: ShardTls = {
    settings: { ...(trust === undefined ? {} : { ca: trust }), ...(t.servername === undefined ? {} : { servername: t.servername }), insecure: t.insecure },
  };
  if (dc?.kind === 'fleet-ca') {
    // The embedded backend names a device d-<serial>: with a local broker the certificate's CN (its MQTT username) is that id, so ACLs can use %u.
    const commonName = dc.commonName ?? (localBroker ? DeviceStore.deviceIdFor('{serial}') : '{serial}');
    shard.deviceCerts = { kind: 'fleet-ca', ca: ca!.pem, commonName, untrusted: dc.untrusted };
  } else if (dc?.kind === 'folder') {
    shard.deviceCerts = { kind: 'folder', dir: dc.dir };
  }
  if (!localBroker) return { shard, warnings };
  const server = await issueCertificate(ca!, 'localhost', { server: ['127.0.0.1', 'localhost', '::1'] });
  const requireCertificate = dc !== undefined;
  // The broker trusts client certificates from the fleet CA and from the bundle given (a folder of certificates made by your PKI).
  const clientTrust = [ca!.pem.cert, t.ca].filter((x): x is string => x !== undefined).join('\n');
  const prepared: PreparedTls = { shard, warnings, mosquitto: { tls: { ca: clientTrust, cert: server.cert, key: server.key, requireCertificate } } };
  if (requireCertificate) {
    // Each device may use only its own topics; the counter reads them all, its markers and the broker's drop count (backend/count-confirmation.ts).
    prepared.mosquitto!.acl = [`user ${COUNTER_IDENTITY}`, 'topic read fleet/#', `topic readwrite ${MARKER_TOPICS}`, `topic read ${SYS_DROPPED}`, `topic read ${SYS_UPTIME}`, '', 'pattern readwrite fleet/%u/#', ''].join('\n');
    const counter = await issueCertificate(ca!, COUNTER_IDENTITY, { client: true });
    prepared.counter = { ca: ca!.pem.cert, key: counter.key, cert: counter.cert };
  } else {
    prepared.counter = { ca: ca!.pem.cert };
  }
  return prepared;
}

/** The fleet CA in `dir` (ca.crt, ca.key), created there when absent; without a dir, a new one for this run. */
async function fleetCa(dir: string | undefined): Promise<FleetCa> {
  if (dir === undefined) return createFleetCa('fleetsim fleet CA');
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  try {
    if (existsSync(certFile) && existsSync(keyFile)) {
      const pem: PemIdentity = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
      return await loadFleetCa(pem);
    }
    const ca = await createFleetCa('fleetsim fleet CA');
    mkdirSync(dir, { recursive: true });
    writeFileSync(certFile, ca.pem.cert);
    writeFileSync(keyFile, ca.pem.key, { mode: 0o600 });
    return ca;
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_TLS_FILE', `fleet CA in ${dir}: ${(err as Error).message}`, {
      hint: 'the folder holds ca.crt and ca.key (PEM, EC P-256 PKCS#8) written by an earlier run, or nothing (a new CA is made there)',
    });
  }
}
