import { SeqTracker } from '../../telemetry-counts.js';

/**
 * What the AWS IoT fake keeps: certificates, things (with their shadow and job executions), jobs,
 * and per-thing counts for reconciliation. Plain data; the handlers (provisioning.ts, jobs.ts,
 * shadow.ts) change it.
 *
 * Concurrency: the fake's event loop only.
 */

/** Certificate statuses the fleet-provisioning flow uses (the registry has more). */
export type CertificateStatus = 'PENDING_ACTIVATION' | 'ACTIVE' | 'INACTIVE';

export interface AwsCertificate {
  /** SHA-256 of the DER, hex (64 characters): how AWS IoT names a certificate. */
  readonly id: string;
  readonly pem: string;
  status: CertificateStatus;
  /** The fleet's claim certificate: may only call the provisioning APIs. */
  readonly claim: boolean;
  /** certificateOwnershipToken handed out with it; valid until RegisterThing uses it or it expires. */
  ownershipToken?: string;
  ownershipExpiresAt?: number;
  /** The thing the certificate is attached to (after RegisterThing). */
  thingName?: string;
}

/** Terminal statuses of a job execution: an update to one is rejected (TerminalStateReached). */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'REMOVED', 'CANCELED', 'TIMED_OUT']);
/** Statuses a device may set with UpdateJobExecution. */
export const DEVICE_STATUSES: ReadonlySet<string> = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

export interface JobExecution {
  readonly jobId: string;
  status: string;
  statusDetails: Record<string, string>;
  /** Incremented by every accepted update (1 when queued). */
  versionNumber: number;
  readonly executionNumber: number;
  readonly queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
}

export interface AwsJob {
  readonly jobId: string;
  /** The job document as stored, with `${aws:iot:s3-presigned-url:...}` placeholders. */
  readonly document: string;
  readonly createdAt: number;
}

export interface ThingCounts {
  provisions: number;
  telemetry: number;
  telemetryWithoutSeq: number;
  startNext: number;
  /** Accepted UpdateJobExecution requests by status. */
  jobUpdates: Record<string, number>;
  /** Rejected requests by error code (jobs, shadow). */
  rejected: Record<string, number>;
  notifyNext: number;
  shadowUpdates: number;
  artifactRequests: number;
  artifactBytes: number;
  /** Publishes discarded for exceeding the per-connection rate. */
  throttledPublishes: number;
  /** CONNECTs refused for exceeding the per-client-ID rate. */
  throttledConnects: number;
  /** Log lines received on dt/fleetsim/<thing>/logs. */
  logLines: number;
}

export interface Shadow {
  reported: Record<string, unknown>;
  desired: Record<string, unknown>;
  version: number;
}

export interface AwsThing {
  readonly name: string;
  /** The certificate attached last (re-provisioning attaches a new one). */
  certificateId: string;
  readonly attributes: Record<string, string>;
  readonly telemetry: SeqTracker;
  readonly counts: ThingCounts;
  readonly shadow: Shadow;
  /** Executions by job id, in queueing order. */
  readonly executions: Map<string, JobExecution>;
}

/** Account-wide counts (what the fake's CloudWatch would show). */
export interface AccountCounts {
  connects: number;
  /** CONNECTs refused: the account's rate exceeded. */
  throttledConnectsAccount: number;
  /** CONNECTs refused: the client ID's rate exceeded. */
  throttledConnectsClientId: number;
  throttledPublishes: number;
  /** Connections refused or closed for their certificate or policy (lifecycle AUTH_ERROR / FORBIDDEN_ACCESS). */
  authErrors: number;
  /** Connections closed for a protocol error (CLIENT_ERROR: payload over the limit, too many slashes). */
  clientErrors: number;
  createKeysAndCertificate: number;
  registerThing: number;
  /** Provisioning requests rejected, by errorCode. */
  provisioningRejected: Record<string, number>;
}

export class AwsIotState {
  readonly certificates = new Map<string, AwsCertificate>();
  readonly things = new Map<string, AwsThing>();
  readonly jobs = new Map<string, AwsJob>();
  /** Jobs that target every thing, including things provisioned later (a continuous job on a dynamic group). */
  readonly fleetJobs: string[] = [];
  readonly account: AccountCounts = {
    connects: 0, throttledConnectsAccount: 0, throttledConnectsClientId: 0, throttledPublishes: 0, authErrors: 0, clientErrors: 0,
    createKeysAndCertificate: 0, registerThing: 0, provisioningRejected: {},
  };

  addThing(name: string, certificateId: string, attributes: Record<string, string>, now: number): AwsThing {
    const thing: AwsThing = {
      name, certificateId, attributes, telemetry: new SeqTracker(), shadow: { reported: {}, desired: {}, version: 0 }, executions: new Map(),
      counts: { provisions: 0, telemetry: 0, telemetryWithoutSeq: 0, startNext: 0, jobUpdates: {}, rejected: {}, notifyNext: 0, shadowUpdates: 0, artifactRequests: 0, artifactBytes: 0, throttledPublishes: 0, throttledConnects: 0, logLines: 0 },
    };
    this.things.set(name, thing);
    for (const jobId of this.fleetJobs) this.queue(thing, jobId, now);
    return thing;
  }

  /** Queues an execution of `jobId` on `thing` (once per job); true when it was new. */
  queue(thing: AwsThing, jobId: string, now: number): boolean {
    if (thing.executions.has(jobId)) return false;
    thing.executions.set(jobId, { jobId, status: 'QUEUED', statusDetails: {}, versionNumber: 1, executionNumber: 1, queuedAt: now, lastUpdatedAt: now });
    return true;
  }

  /** The execution StartNextPendingJobExecution / notify-next pick: IN_PROGRESS first, then QUEUED, each oldest first. */
  nextPending(thing: AwsThing): JobExecution | undefined {
    let queued: JobExecution | undefined;
    for (const e of thing.executions.values()) {
      if (e.status === 'IN_PROGRESS') return e;
      if (queued === undefined && e.status === 'QUEUED') queued = e;
    }
    return queued;
  }
}

export function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
