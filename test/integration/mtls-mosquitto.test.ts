import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFleetCa, issueCertificate } from '../../src/identity/x509.js';
import { prepareTls } from '../../src/engine/target-tls.js';
import { formatSummaryTable } from '../../src/report/console.js';
import { renderHtml } from '../../src/report/html.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { expectBackendReconciles } from '../helpers/reconcile.js';
import { requireMosquitto } from '../helpers/mosquitto.js';

/**
 * Mutual TLS with per-device certificates from fleetsim's fleet CA, against the Mosquitto that
 * fleetsim starts (require_certificate, use_identity_as_username, ACL pattern fleet/%u/#):
 * the shipped scenario passes and reconciles per device; devices whose certificate the broker
 * does not trust are refused and counted as TLS failures; devices whose identity does not match
 * their topics publish outside the ACL, which Mosquitto acknowledges and drops, and the run counts
 * every such message as lost between device and backend instead of losing it silently.
 */
const scenario = (tls: string, count = 20) => `
name: it-mtls
seed: 4
duration: 5s
target:
  mqtt: local-mosquitto
  tls:
${tls}
fleet:
  - { profile: esp32-wifi-sensor, count: ${count}, link: wifi }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 1s, qos: 1, size: 64B }
  reconnect: { base: 200ms, cap: 1s }
`;

describe.runIf(requireMosquitto())('mutual TLS against Mosquitto with fleetsim-issued device certificates', () => {
  it('scenarios/mtls-mosquitto.yaml passes and reconciles per device', async () => {
    const s = loadScenario('scenarios/mtls-mosquitto.yaml', { duration: '8s' });
    const result = await runScenario(s, { workers: 2, runId: 'it-mtls-shipped', collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;
    expect(summary.run.target).toMatch(/local mosquitto \(TLS\)/);
    expect(summary.counters['mqtt.connect.ok']).toBe(60);
    expect(summary.counters['errors.tls'] ?? 0).toBe(0);
    expect(summary.accounting.holds).toBe(true);
    expectBackendReconciles(result, 60);
    expect(summary.result.exitCode).toBe(0);
  });

  it('devices with an untrusted certificate are refused and counted as TLS failures; the others connect', async () => {
    const s = parseScenarioText(scenario('    deviceCerts: { fleetCa: { untrusted: 30% } }'), 'it-mtls-untrusted.yaml');
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-mtls-untrusted', drainMs: 3000 });
    const ok = summary.counters['mqtt.connect.ok'];
    expect(ok).toBeGreaterThan(5);
    expect(ok).toBeLessThan(20);
    // Each untrusted device keeps retrying: at least one TLS failure per untrusted device.
    expect(summary.counters['errors.tls']).toBeGreaterThanOrEqual(20 - ok);
    expect(summary.counters['errors.network'] ?? 0).toBe(0);
    expect(summary.counters['errors.mqtt_refused'] ?? 0).toBe(0);
    expect(summary.accounting.holds).toBe(true);
  });

  it('publishing outside the ACL is counted as lost between device and backend, not lost silently', async () => {
    // CN = the serial, but topics carry the backend's device id: every publish is outside fleet/%u/#.
    const s = parseScenarioText(scenario('    deviceCerts: { fleetCa: { commonName: "{serial}" } }', 6), 'it-mtls-acl.yaml');
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-mtls-acl', drainMs: 3000 });
    expect(summary.counters['mqtt.connect.ok']).toBe(6);
    expect(summary.accounting.acked).toBeGreaterThan(6);
    expect(summary.accounting.backend!.received).toBe(0);
    expect(summary.accounting.backend!.lostBetween).toBe(summary.accounting.acked);
  });

  it('insecure: true connects without verifying and every report says so', async () => {
    const s = parseScenarioText(scenario('    insecure: true', 4), 'it-tls-insecure.yaml');
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-tls-insecure', drainMs: 3000 });
    expect(summary.counters['mqtt.connect.ok']).toBe(4);
    expect(summary.run.warnings).toEqual([expect.stringMatching(/not verified \(target\.tls\.insecure: true\)/)]);
    expect(formatSummaryTable(summary)).toMatch(/⚠ TLS server certificates were not verified/);
    expect(renderHtml(summary, [])).toMatch(/<li>⚠ TLS server certificates were not verified/);
  });
});

describe.runIf(requireMosquitto())('device certificates from a folder, and a fleet CA kept in a folder', () => {
  it('devices connect with <serial>.crt/.key made by another PKI whose CA the broker is told to trust', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-certs-'));
    try {
      const pki = await createFleetCa('my company PKI');
      await writeFile(path.join(dir, 'ca.pem'), pki.pem.cert);
      for (let g = 0; g < 4; g++) {
        const serial = `it-mtls-${g}`;
        const id = await issueCertificate(pki, `d-${serial}`, { client: true });
        await writeFile(path.join(dir, `${serial}.crt`), id.cert);
        await writeFile(path.join(dir, `${serial}.key`), id.key);
      }
      const s = parseScenarioText(scenario(`    ca: ${path.join(dir, 'ca.pem')}\n    deviceCerts: { folder: ${dir} }`, 4), path.join(dir, 'it-mtls-folder.yaml'));
      const result = await runScenario(s, { workers: 1, runId: 'it-mtls-folder', collectDeviceCounts: true, drainMs: 3000 });
      expect(result.summary.counters['mqtt.connect.ok']).toBe(4);
      expect(result.summary.counters['errors.tls'] ?? 0).toBe(0);
      expectBackendReconciles(result, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fleetCa.dir keeps the CA: the second run loads the one the first created', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-ca-'));
    try {
      const tls = { insecure: false, deviceCerts: { kind: 'fleet-ca' as const, dir: path.join(dir, 'pki'), untrusted: 0 } };
      const first = await prepareTls(tls, true);
      const second = await prepareTls(tls, true);
      const onDisk = await readFile(path.join(dir, 'pki', 'ca.crt'), 'utf8');
      expect(first.shard.deviceCerts).toMatchObject({ kind: 'fleet-ca', ca: { cert: onDisk } });
      expect(second.shard.deviceCerts).toMatchObject({ kind: 'fleet-ca', ca: { cert: onDisk } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
