import { ACCEPTED, REJECTED, jobsTopics } from './topics.js';
import { epochSeconds, parseObject, stringMap, type Outgoing } from './messages.js';
import { DEVICE_STATUSES, TERMINAL_STATUSES, bump, type AwsIotState, type AwsThing, type JobExecution } from './state.js';

/**
 * The Jobs device MQTT API (the jobs MQTT API page): StartNextPendingJobExecution on `start-next`,
 * UpdateJobExecution on `<jobId>/update` with the optimistic `expectedVersion`, and the
 * NextNotification on `notify-next` whenever the first pending execution changes (the jobs
 * notifications page). Rejections carry `{code, message, clientToken, timestamp, executionState?}`
 * with the page's error codes (InvalidJson, InvalidRequest, ResourceNotFound, VersionMismatch,
 * InvalidStateTransition).
 *
 * Job documents are stored with `${aws:iot:s3-presigned-url:<key>}` placeholders; `presign` turns
 * each into a time-limited URL of the fake's artifact server when a device reads the document,
 * as the platform does for S3 links.
 *
 * Concurrency: the fake's event loop only.
 */

const PRESIGNED = /\$\{aws:iot:s3-presigned-url:([^}]+)\}/g;

export class JobsApi {
  constructor(
    private readonly state: AwsIotState,
    private readonly presign: (key: string, thing: string) => string,
  ) {}

  /** The job document `thing` reads: placeholders replaced, parsed (documents are JSON objects). */
  document(jobId: string, thing: string): Record<string, unknown> {
    const job = this.state.jobs.get(jobId);
    if (job === undefined) return {};
    return JSON.parse(job.document.replace(PRESIGNED, (_m, key: string) => this.presign(key, thing))) as Record<string, unknown>;
  }

  /** The NextNotification of `thing` now: `{timestamp, execution?}`. */
  nextNotification(thing: AwsThing, now: number): Outgoing {
    const e = this.state.nextPending(thing);
    thing.counts.notifyNext++;
    const body: Record<string, unknown> = { timestamp: epochSeconds(now) };
    if (e !== undefined) body.execution = this.execution(thing, e, true);
    return { topic: jobsTopics(thing.name).notifyNext, payload: JSON.stringify(body) };
  }

  /** A request on `$aws/things/<thing>/jobs/<rest>`: the answer, and a notify-next when the first pending execution changed. */
  handle(thing: AwsThing, rest: string, payload: Buffer, now: number): Outgoing[] {
    const topics = jobsTopics(thing.name);
    if (rest === 'jobs/start-next') return this.startNext(thing, topics.startNext, payload, now);
    const m = /^jobs\/([a-zA-Z0-9_-]+)\/update$/.exec(rest);
    if (m !== null) return this.update(thing, m[1], topics.update(m[1]), payload, now);
    // Another jobs topic (get, $next/get, ...): not modelled, answered as the page answers an unknown request topic.
    return [this.rejected(thing, `$aws/things/${thing.name}/${rest}`, 'InvalidTopic', 'the request was sent to a topic the Jobs API does not serve (in this fake)', undefined, undefined, now)];
  }

  private startNext(thing: AwsThing, topic: string, payload: Buffer, now: number): Outgoing[] {
    const req = parseObject(payload);
    if (typeof req === 'string') return [this.rejected(thing, topic, 'InvalidJson', req, undefined, undefined, now)];
    const clientToken = typeof req.clientToken === 'string' ? req.clientToken : undefined;
    const details = req.statusDetails === undefined ? {} : stringMap(req.statusDetails);
    if (details === undefined) return [this.rejected(thing, topic, 'InvalidRequest', 'statusDetails must map strings to strings', clientToken, undefined, now)];
    if (req.stepTimeoutInMinutes !== undefined && !(Number.isInteger(req.stepTimeoutInMinutes) && (req.stepTimeoutInMinutes as number) >= 1)) {
      return [this.rejected(thing, topic, 'InvalidRequest', 'stepTimeoutInMinutes must be a positive integer', clientToken, undefined, now)];
    }
    thing.counts.startNext++;
    const e = this.state.nextPending(thing);
    const body: Record<string, unknown> = { timestamp: epochSeconds(now) };
    if (clientToken !== undefined) body.clientToken = clientToken;
    if (e !== undefined) {
      if (e.status === 'QUEUED') {
        e.status = 'IN_PROGRESS';
        e.startedAt = now;
        e.versionNumber++;
      }
      Object.assign(e.statusDetails, details);
      e.lastUpdatedAt = now;
      body.execution = this.execution(thing, e, true);
    }
    return [{ topic: topic + ACCEPTED, payload: JSON.stringify(body) }];
  }

  private update(thing: AwsThing, jobId: string, topic: string, payload: Buffer, now: number): Outgoing[] {
    const req = parseObject(payload);
    if (typeof req === 'string') return [this.rejected(thing, topic, 'InvalidJson', req, undefined, undefined, now)];
    const clientToken = typeof req.clientToken === 'string' ? req.clientToken : undefined;
    const status = req.status;
    if (typeof status !== 'string' || !DEVICE_STATUSES.has(status)) {
      return [this.rejected(thing, topic, 'InvalidRequest', 'status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED', clientToken, undefined, now)];
    }
    const details = req.statusDetails === undefined ? {} : stringMap(req.statusDetails);
    if (details === undefined || Object.keys(details).length > 10) return [this.rejected(thing, topic, 'InvalidRequest', 'statusDetails must map strings to strings (at most 10)', clientToken, undefined, now)];
    if (req.expectedVersion !== undefined && !Number.isInteger(req.expectedVersion)) return [this.rejected(thing, topic, 'InvalidRequest', 'expectedVersion must be an integer', clientToken, undefined, now)];
    const e = thing.executions.get(jobId);
    if (e === undefined) return [this.rejected(thing, topic, 'ResourceNotFound', `no execution of job ${jobId} on ${thing.name}`, clientToken, undefined, now)];
    if (TERMINAL_STATUSES.has(e.status)) return [this.rejected(thing, topic, 'InvalidStateTransition', `the execution is ${e.status}`, clientToken, e, now)];
    if (req.expectedVersion !== undefined && req.expectedVersion !== e.versionNumber) {
      return [this.rejected(thing, topic, 'VersionMismatch', `expected version ${String(req.expectedVersion)}, the execution is at ${e.versionNumber}`, clientToken, e, now)];
    }
    const firstBefore = this.state.nextPending(thing);
    if (e.status === 'QUEUED' && status === 'IN_PROGRESS') e.startedAt = now;
    e.status = status;
    Object.assign(e.statusDetails, details);
    e.versionNumber++;
    e.lastUpdatedAt = now;
    bump(thing.counts.jobUpdates, status);
    const body: Record<string, unknown> = { timestamp: epochSeconds(now) };
    if (clientToken !== undefined) body.clientToken = clientToken;
    if (req.includeJobExecutionState === true) body.executionState = { status: e.status, statusDetails: e.statusDetails, versionNumber: e.versionNumber };
    if (req.includeJobDocument === true) body.jobDocument = this.document(jobId, thing.name);
    const out: Outgoing[] = [{ topic: topic + ACCEPTED, payload: JSON.stringify(body) }];
    if (this.state.nextPending(thing) !== firstBefore) out.push(this.nextNotification(thing, now));
    return out;
  }

  private rejected(thing: AwsThing, topic: string, code: string, message: string, clientToken: string | undefined, e: JobExecution | undefined, now: number): Outgoing {
    bump(thing.counts.rejected, code);
    const body: Record<string, unknown> = { code, message, timestamp: epochSeconds(now) };
    if (clientToken !== undefined) body.clientToken = clientToken;
    if (e !== undefined) body.executionState = { status: e.status, statusDetails: e.statusDetails, versionNumber: e.versionNumber };
    return { topic: topic + REJECTED, payload: JSON.stringify(body) };
  }

  /** A JobExecution as the start-next answer and NextNotification carry it. */
  private execution(thing: AwsThing, e: JobExecution, withDocument: boolean): Record<string, unknown> {
    const x: Record<string, unknown> = {
      jobId: e.jobId, thingName: thing.name, status: e.status, statusDetails: e.statusDetails,
      queuedAt: epochSeconds(e.queuedAt), lastUpdatedAt: epochSeconds(e.lastUpdatedAt), versionNumber: e.versionNumber, executionNumber: e.executionNumber,
    };
    if (e.startedAt !== undefined) x.startedAt = epochSeconds(e.startedAt);
    if (withDocument) x.jobDocument = this.document(e.jobId, thing.name);
    return x;
  }
}
