import { createHash, randomBytes } from 'node:crypto';
import { SeqTracker } from '../../telemetry-counts.js';

/**
 * The state of the acme-things test backend (protocols/example.yaml): things, their bearer
 * tokens with expiry, telemetry per thing (exact, by sequence number), and what each thing sent
 * back. It is written from the protocol's description, not from fleetsim's preset code, so a
 * mismatch between the two shows as a 400 or a count that does not reconcile.
 *
 * Concurrency: the event loop of the thread that started the backend.
 */

export interface Thing {
  readonly serial: string;
  readonly id: string;
  token: string;
  tokenExpiresAtMs: number;
  enrollments: number;
  /** Requests refused because the token had expired or was unknown (401). */
  rejectedTokens: number;
  polls: number;
  /** Polls answered 204 (nothing newer than `have`). */
  unchangedPolls: number;
  reports: number;
  lastPhase: string;
  /** The release the last report was about. */
  lastReportedFw: string;
  firmware: string;
  readonly telemetry: SeqTracker;
  malformedTelemetry: number;
  commandsSent: number;
  commandsAcked: number;
  settingsAcked: number;
  /** Highest settings revision the thing acknowledged (0: none). */
  settingsAckedRevision: number;
  logLines: number;
  artifactBytes: number;
  online: boolean;
}

export interface Firmware {
  version: string;
  deployment: string;
  bytes: Buffer;
  sha256: string;
}

/** What one thing's counts look like from outside (fleetsim's DeviceTelemetryCounts shape plus acme's own). */
export interface ThingCounts {
  deviceId: string;
  serial: string;
  received: number;
  duplicates: number;
  gaps: number;
  maxSeq: number;
  provisions: number;
  polls: number;
  reauths: number;
  rejectedTokens: number;
  reports: number;
  firmware: string;
  commandsSent: number;
  commandsAcked: number;
  settingsAcked: number;
  logLines: number;
  malformedTelemetry: number;
}

export class AcmeState {
  private readonly bySerial = new Map<string, Thing>();
  private readonly byId = new Map<string, Thing>();
  private readonly byToken = new Map<string, Thing>();
  /** The desired state every thing is told about; `revision` grows with each change. */
  revision = 1;
  settings: Record<string, string> = { reportEverySec: '30' };
  settingsRevision = 1;
  firmware: Firmware | undefined;
  /** Requests answered 400: the backend could not read what it received. */
  malformedRequests = 0;
  /** MQTT publishes and subscriptions refused (another thing's topic, or none of the protocol's). */
  refusedPublishes = 0;
  refusedSubscribes = 0;

  constructor(
    readonly provisioningKey: string,
    readonly tokenLifetimeSec: number,
    readonly pollAfterSec: number,
  ) {}

  /** Enrols (again) thing `serial` with a new token; `lifetimeSec` Infinity: a token that never expires (MQTT provisioning). */
  enroll(serial: string, now: number, lifetimeSec = this.tokenLifetimeSec): Thing {
    let t = this.bySerial.get(serial);
    if (t === undefined) {
      t = {
        serial,
        id: `th-${serial}`,
        token: '',
        tokenExpiresAtMs: 0,
        enrollments: 0,
        rejectedTokens: 0,
        polls: 0,
        unchangedPolls: 0,
        reports: 0,
        lastPhase: '',
        lastReportedFw: '',
        firmware: '1.0.0',
        telemetry: new SeqTracker(),
        malformedTelemetry: 0,
        commandsSent: 0,
        commandsAcked: 0,
        settingsAcked: 0,
        settingsAckedRevision: 0,
        logLines: 0,
        artifactBytes: 0,
        online: false,
      };
      this.bySerial.set(serial, t);
      this.byId.set(t.id, t);
    }
    // A new token revokes the old one.
    if (t.token !== '') this.byToken.delete(t.token);
    t.token = randomBytes(18).toString('base64url');
    t.tokenExpiresAtMs = now + lifetimeSec * 1000;
    t.enrollments++;
    this.byToken.set(t.token, t);
    return t;
  }

  /** The thing a bearer token belongs to while it is valid. */
  bearer(token: string, now: number): Thing | undefined {
    const t = this.byToken.get(token);
    return t !== undefined && now < t.tokenExpiresAtMs ? t : undefined;
  }

  /**
   * A poll of the desired state by a thing that has revision `have` ('' before the first): null
   * when nothing is newer, else the desired-state document.
   */
  desired(t: Thing, have: string): Record<string, unknown> | null {
    t.polls++;
    if (have !== '' && Number(have) === this.revision) {
      t.unchangedPolls++;
      return null;
    }
    const fw = this.firmware;
    return {
      revision: this.revision,
      firmware: fw ? { version: fw.version, deployment: fw.deployment, url: `/api/v2/blobs/${fw.version}`, bytes: fw.bytes.length, sha256: fw.sha256 } : null,
      settings: this.settings,
      settingsRevision: this.settingsRevision,
      pollAfterSec: this.pollAfterSec,
    };
  }

  /** A state report {fw, phase, deployment, error, downloaded}; false (counted as malformed) when it is not one. */
  report(t: Thing, b: unknown): boolean {
    const r = b as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || typeof r.fw !== 'string' || typeof r.phase !== 'string' || r.phase === '' || typeof r.deployment !== 'string' || typeof r.error !== 'string' || typeof r.downloaded !== 'number') {
      this.malformedRequests++;
      return false;
    }
    t.reports++;
    t.lastPhase = r.phase;
    t.lastReportedFw = r.fw;
    if (r.phase === 'success') t.firmware = r.fw;
    return true;
  }

  thing(id: string): Thing | undefined {
    return this.byId.get(id);
  }

  bySerialNumber(serial: string): Thing | undefined {
    return this.bySerial.get(serial);
  }

  setFirmware(version: string, size: number): Firmware {
    const bytes = randomBytes(size);
    this.firmware = { version, deployment: `dep-${version}`, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    this.revision++;
    return this.firmware;
  }

  setSettings(settings: Record<string, string>): void {
    this.settings = settings;
    this.settingsRevision++;
    this.revision++;
  }

  things(): Thing[] {
    return [...this.bySerial.values()];
  }

  counts(t: Thing): ThingCounts {
    const s = t.telemetry;
    return {
      deviceId: t.id,
      serial: t.serial,
      received: s.received,
      duplicates: s.duplicates,
      gaps: s.gaps,
      maxSeq: s.maxSeq,
      provisions: t.enrollments,
      polls: t.polls,
      reauths: Math.max(0, t.enrollments - 1),
      rejectedTokens: t.rejectedTokens,
      reports: t.reports,
      firmware: t.firmware,
      commandsSent: t.commandsSent,
      commandsAcked: t.commandsAcked,
      settingsAcked: t.settingsAcked,
      logLines: t.logLines,
      malformedTelemetry: t.malformedTelemetry,
    };
  }
}
