import { generateKeyPairSync, sign } from 'node:crypto';
import type { PlatformFakeName } from '../../src/wire/platform-fakes.js';
import mqtt from 'mqtt';
import { hawkbitTargetToken } from '../../src/wire/hawkbit-token.js';
import { balenaUuidOf } from '../../src/wire/balena-uuid.js';

/**
 * One documented device request per platform fake, made the way a device of that platform makes
 * it: what the contract suite (test/contracts/platform-fake.contract.ts) and the CLI test of
 * `fleetsim backend --preset NAME` send to check that a fake answers and counts the device.
 * Typed by PLATFORM_FAKE_NAMES: registering a fake without its probe does not compile.
 */
export interface ProbeAnswer {
  /** HTTP status of the answer. */
  status: number;
  /** The id the fake counts this device under (its /v1/stats/devices deviceId). */
  deviceId: string;
}

export type FakeProbe = (urls: { httpUrl?: string; mqttUrl?: string }, fleetKey: string, serial: string) => Promise<ProbeAnswer>;

const json = { 'content-type': 'application/json' };

export const FAKE_PROBES: Record<PlatformFakeName, FakeProbe> = {
  // acme-things: enrolment with the provisioning key (protocols/example.yaml).
  async example({ httpUrl }, fleetKey, serial) {
    const res = await fetch(`${httpUrl}/api/v2/enrollments`, {
      method: 'POST',
      headers: { ...json, 'x-acme-client': 'probe', 'x-provisioning-key': fleetKey },
      body: JSON.stringify({ hardwareSerial: serial, model: 'probe', requestedAt: Date.now() }),
    });
    const body = (await res.json()) as { thing?: { id?: string } };
    return { status: res.status, deviceId: body.thing?.id ?? '' };
  },
  // Mender: an authentication request signed with the device's own key (deviceauth API).
  async mender({ httpUrl }, fleetKey, serial) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const body = JSON.stringify({ id_data: JSON.stringify({ sn: serial }), pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), tenant_token: fleetKey });
    const res = await fetch(`${httpUrl}/api/devices/v1/authentication/auth_requests`, {
      method: 'POST',
      headers: { ...json, 'x-men-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64') },
      body,
    });
    await res.arrayBuffer();
    return { status: res.status, deviceId: serial };
  },
  // hawkBit DDI: the controller base resource with the target's TargetToken.
  async hawkbit({ httpUrl }, fleetKey, serial) {
    const res = await fetch(`${httpUrl}/DEFAULT/controller/v1/${encodeURIComponent(serial)}`, { headers: { authorization: `TargetToken ${hawkbitTargetToken(fleetKey, serial)}`, accept: 'application/hal+json' } });
    await res.arrayBuffer();
    return { status: res.status, deviceId: serial };
  },
  // ThingsBoard: device provisioning over HTTP with the profile's key and secret.
  async thingsboard({ httpUrl }, fleetKey, serial) {
    const [provisionDeviceKey, provisionDeviceSecret = ''] = fleetKey.split(':');
    const res = await fetch(`${httpUrl}/api/v1/provision`, { method: 'POST', headers: json, body: JSON.stringify({ deviceName: serial, provisionDeviceKey, provisionDeviceSecret }) });
    const body = (await res.json()) as { status?: string };
    return { status: body.status === 'SUCCESS' ? res.status : 500, deviceId: serial };
  },
  // balena: registration with the fleet's provisioning key (open-balena-api POST /device/register).
  async balena({ httpUrl }, fleetKey, serial) {
    const [fleet, key] = /^\d+:/.test(fleetKey) ? [Number(fleetKey.slice(0, fleetKey.indexOf(':'))), fleetKey.slice(fleetKey.indexOf(':') + 1)] : [1, fleetKey];
    const uuid = balenaUuidOf(serial);
    const res = await fetch(`${httpUrl}/device/register`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${key}` },
      body: JSON.stringify({ application: fleet, uuid, device_type: 'generic-aarch64', api_key: uuid.split('').reverse().join('') }),
    });
    await res.arrayBuffer();
    return { status: res.status, deviceId: serial };
  },
  // AWS IoT: fleet provisioning by claim over MQTT with mutual TLS (CreateKeysAndCertificate, then RegisterThing
  // with the template named by the fleet key); 200 when accepted, the rejection's statusCode, or 403 when the
  // claim policy closed the connection (a template it does not allow).
  async 'aws-iot'({ httpUrl, mqttUrl }, fleetKey, serial) {
    const tls = (await (await fetch(`${httpUrl}/v1/fake/device-tls`)).json()) as { ca: string; claimCert: string; claimKey: string };
    const c = mqtt.connect(mqttUrl!, { clientId: serial, protocolVersion: 4, reconnectPeriod: 0, ca: tls.ca, cert: tls.claimCert, key: tls.claimKey });
    const register = `$aws/provisioning-templates/${fleetKey}/provision/json`;
    try {
      return await new Promise<ProbeAnswer>((resolve, reject) => {
        c.on('error', reject);
        c.on('close', () => resolve({ status: 403, deviceId: '' }));
        c.on('message', (topic, payload) => {
          const body = JSON.parse(payload.toString()) as Record<string, unknown>;
          if (topic.endsWith('/rejected')) return resolve({ status: Number(body.statusCode), deviceId: '' });
          if (topic === '$aws/certificates/create/json/accepted') {
            c.publish(register, JSON.stringify({ certificateOwnershipToken: body.certificateOwnershipToken, parameters: { SerialNumber: serial } }), { qos: 1 });
          } else if (topic === `${register}/accepted`) resolve({ status: 200, deviceId: String(body.thingName) });
        });
        c.once('connect', () => {
          c.subscribe(['$aws/certificates/create/json/+', `${register}/+`], { qos: 1 }, () => c.publish('$aws/certificates/create/json', '{}', { qos: 1 }));
        });
      });
    } finally {
      c.end(true);
    }
  },
};
