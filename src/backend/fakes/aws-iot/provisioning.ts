import { createHash, randomBytes } from 'node:crypto';
import { issueCertificate, type FleetCa } from '../../../identity/x509.js';
import { ACCEPTED, CREATE_KEYS_AND_CERTIFICATE, REJECTED, registerThingTopic } from './topics.js';
import { parseObject, stringMap, type Outgoing } from './messages.js';
import { bump, type AwsCertificate, type AwsIotState } from './state.js';

/**
 * Fleet provisioning by claim over MQTT (the device provisioning MQTT API page):
 * CreateKeysAndCertificate issues a key pair and a certificate in PENDING_ACTIVATION with a
 * certificateOwnershipToken; RegisterThing with that token and the template's parameters creates
 * the thing, attaches and activates the certificate and answers the thing name and the template's
 * device configuration. Rejections carry `{statusCode, errorCode, errorMessage}` as the page shows.
 *
 * The page gives the rejection's shape but no list of error codes: the codes here are the fake's
 * own (docs/presets/aws-iot.md says so).
 *
 * Concurrency: the fake's event loop; certificate issuance is asynchronous, so two requests of the
 * same session may be answered out of order (as they may be on the platform).
 */

/** The provisioning template the fake serves (a subset: parameters, thing name, device configuration). */
export interface ProvisioningTemplate {
  readonly name: string;
  /** Parameters a RegisterThing request must carry. */
  readonly requiredParameters: readonly string[];
  /** The thing name: this prefix and the `SerialNumber` parameter (the template's Fn::Join of them). */
  readonly thingNamePrefix: string;
  /** The template's DeviceConfiguration, answered as it is. */
  readonly deviceConfiguration: Readonly<Record<string, string>>;
}

/**
 * The certificate id AWS IoT gives a certificate: the SHA-256 of its DER, hex. The DER is the
 * PEM's base64 body (one certificate, as the fake issues them), not a parse of the certificate.
 */
export function certificateIdOf(pem: string): string {
  return createHash('sha256').update(Buffer.from(pem.replace(PEM_ARMOUR, ''), 'base64')).digest('hex');
}

/** A PEM certificate's armour lines and line breaks: what is left is its DER in base64. */
const PEM_ARMOUR = /-----(?:BEGIN|END) CERTIFICATE-----|\s/g;

export class FleetProvisioning {
  constructor(
    private readonly state: AwsIotState,
    private readonly ca: FleetCa,
    private readonly template: ProvisioningTemplate,
  ) {}

  /** Whether `topic` is one of the provisioning request topics a claim session may publish to. */
  isRequest(topic: string): boolean {
    return topic === CREATE_KEYS_AND_CERTIFICATE || topic.startsWith('$aws/provisioning-templates/');
  }

  /** The answer to one provisioning request. */
  async handle(topic: string, payload: Buffer, now: number): Promise<Outgoing> {
    if (topic === CREATE_KEYS_AND_CERTIFICATE) return this.createKeysAndCertificate(payload);
    return this.registerThing(topic, payload, now);
  }

  private rejected(topic: string, statusCode: number, errorCode: string, errorMessage: string): Outgoing {
    bump(this.state.account.provisioningRejected, errorCode);
    return { topic: topic + REJECTED, payload: JSON.stringify({ statusCode, errorCode, errorMessage }) };
  }

  private async createKeysAndCertificate(payload: Buffer): Promise<Outgoing> {
    const topic = CREATE_KEYS_AND_CERTIFICATE;
    const req = parseObject(payload);
    if (typeof req === 'string') return this.rejected(topic, 400, 'InvalidPayload', req);
    this.state.account.createKeysAndCertificate++;
    const id0 = randomBytes(8).toString('hex');
    const issued = await issueCertificate(this.ca, `AWS IoT Certificate ${id0}`, { client: true });
    const cert: AwsCertificate = { id: certificateIdOf(issued.cert), pem: issued.cert, status: 'PENDING_ACTIVATION', claim: false, ownershipToken: randomBytes(48).toString('base64') };
    this.state.certificates.set(cert.id, cert);
    return {
      topic: topic + ACCEPTED,
      payload: JSON.stringify({ certificateId: cert.id, certificatePem: cert.pem, privateKey: issued.key, certificateOwnershipToken: cert.ownershipToken }),
    };
  }

  private registerThing(topic: string, payload: Buffer, now: number): Outgoing {
    const t = this.template;
    if (topic !== registerThingTopic(t.name)) return this.rejected(topic, 404, 'ResourceNotFound', `no provisioning template named in ${topic}`);
    const req = parseObject(payload);
    if (typeof req === 'string') return this.rejected(topic, 400, 'InvalidPayload', req);
    const token = req.certificateOwnershipToken;
    if (typeof token !== 'string' || token === '') return this.rejected(topic, 400, 'InvalidPayload', 'certificateOwnershipToken is required');
    const parameters = req.parameters === undefined ? {} : stringMap(req.parameters);
    if (parameters === undefined) return this.rejected(topic, 400, 'InvalidPayload', 'parameters must map strings to strings');
    const missing = t.requiredParameters.filter((p) => parameters[p] === undefined);
    if (missing.length > 0) return this.rejected(topic, 400, 'InvalidParameters', `missing template parameters: ${missing.join(', ')}`);
    let cert: AwsCertificate | undefined;
    for (const c of this.state.certificates.values()) if (c.ownershipToken === token) cert = c;
    if (cert === undefined) return this.rejected(topic, 400, 'InvalidCertificateOwnershipToken', 'the certificate ownership token is not valid');
    this.state.account.registerThing++;
    cert.ownershipToken = undefined;
    cert.status = 'ACTIVE';
    const thingName = t.thingNamePrefix + (parameters.SerialNumber ?? cert.id.slice(0, 16));
    cert.thingName = thingName;
    const existing = this.state.things.get(thingName);
    const thing = existing ?? this.state.addThing(thingName, cert.id, { ...parameters }, now);
    thing.certificateId = cert.id;
    thing.counts.provisions++;
    return { topic: topic + ACCEPTED, payload: JSON.stringify({ deviceConfiguration: t.deviceConfiguration, thingName }) };
  }
}
