import * as z from 'zod';
import { parseDuration, parsePercent, parseRate } from '../models/units.js';
import { BACKEND_OPS, DEFAULT_BACKEND, lognormalFromMeanCv, lognormalFromP50P99, serversForCapacity, type BackendOperation, type BackendSpec, type ServiceTime } from '../models/backend-queue.js';
import type { SchemaHelpers } from './fleet-ops-schema.js';

/**
 * `backend:` of a scenario: the modelled backend of the virtual clock, per operation (part of the
 * one scenario schema; schema.ts passes its unit helpers). Ranges are stated with each field.
 */

/** Largest `servers` (the queue keeps one free time per server). */
export const MAX_SERVERS = 100_000;
/** Largest waiting room. */
export const MAX_QUEUE = 100_000_000;
/** `lockstep` range, ms: below 1 ms the exchanges dominate the run; above 10 s answers are held far too long. */
export const LOCKSTEP_RANGE_MS = [1, 10_000] as const;

const OP_DESCRIPTIONS: Record<(typeof BACKEND_OPS)[number], string> = {
  provision: 'Provisioning requests (HTTP).',
  connect: 'MQTT connects (CONNECT to CONNACK).',
  publish: 'QoS 1 publishes (PUBLISH to PUBACK); QoS 0 publishes are not answered and do not queue.',
  poll: 'Target-state polls (HTTP).',
  state: 'State reports of fleet operations (HTTP).',
  artifact: 'Artifact range requests of updates (HTTP).',
  command: 'Commands, configuration pushes and update notifications sent to devices (MQTT).',
};

export function backendSchema(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const service = z
    .strictObject({
      distribution: z.enum(['constant', 'exponential', 'lognormal']).default('lognormal').meta({ description: 'Family of service times. constant: `mean`; exponential: `mean`; lognormal: `p50` and `p99`, or `mean` and `cv`.' }),
      mean: unit('duration', 'Mean service time (constant: every service time).', { positive: true }).optional(),
      p50: unit('duration', 'Median service time (lognormal).', { positive: true }).optional(),
      p99: unit('duration', '99th percentile of service time (lognormal), at least p50.', { positive: true }).optional(),
      cv: withHint(z.number().positive().max(100).optional().meta({ description: 'Coefficient of variation, standard deviation / mean (lognormal with `mean`), above 0 and at most 100.' }), 'a number above 0, e.g. cv: 1.5'),
    })
    .check((ctx) => {
      const v = ctx.value;
      const given = (['mean', 'p50', 'p99', 'cv'] as const).filter((k) => v[k] !== undefined);
      const want = v.distribution === 'lognormal' ? (v.mean !== undefined || v.cv !== undefined ? ['mean', 'cv'] : ['p50', 'p99']) : ['mean'];
      if (given.join() !== want.join()) {
        const hint = v.distribution === 'lognormal' ? 'write service: { distribution: lognormal, p50: 20ms, p99: 200ms } or { distribution: lognormal, mean: 30ms, cv: 1.5 }' : `write service: { distribution: ${v.distribution}, mean: 20ms }`;
        ctx.issues.push({ code: 'custom', path: [], message: `a ${v.distribution} service time takes ${want.map((k) => `"${k}"`).join(' and ')}${given.length > 0 ? `, not ${given.map((k) => `"${k}"`).join(', ')}` : ''}`, input: v, params: { hint } });
        return;
      }
      const p50 = v.p50 === undefined ? undefined : parseDuration(v.p50);
      const p99 = v.p99 === undefined ? undefined : parseDuration(v.p99);
      if (p50?.ok && p99?.ok && p99.value < p50.value) {
        ctx.issues.push({ code: 'custom', path: ['p99'], message: `p99 ${v.p99} is below p50 ${v.p50}`, input: v.p99, params: { hint: 'the 99th percentile is at least the median' } });
      }
    })
    .meta({ description: 'How long one operation keeps a server busy.' });

  const operation = z
    .strictObject({
      service: service.optional(),
      servers: withHint(z.int().min(1).max(MAX_SERVERS).optional().meta({ description: `Operations served at once, 1 to ${MAX_SERVERS}. Absent (and no capacity): unlimited, nothing queues.` }), `a whole number of servers from 1 to ${MAX_SERVERS}`),
      capacity: unit('rate', 'Operations per second the backend serves: the same as servers = capacity × mean service time (rounded, at least 1).', { positive: true }).optional(),
      queue: withHint(z.int().min(0).max(MAX_QUEUE).optional().meta({ description: `Operations that may wait for a server, 0 to ${MAX_QUEUE}; 0 turns away every operation that finds all servers busy (Erlang's loss system). Absent: no limit.` }), `a whole number from 0 to ${MAX_QUEUE}`),
      whenFull: z.enum(['reject', 'drop']).default('reject').meta({ description: 'An operation that finds the waiting room full: reject answers at once (HTTP: rejectStatus with Retry-After; MQTT connect: CONNACK 3, server unavailable; publish: no PUBACK, the session ends); drop closes the connection without an answer.' }),
      rejectStatus: withHint(z.literal([429, 503]).default(503).meta({ description: 'HTTP status of a rejection: 429 or 503.' }), 'use 429 or 503'),
      retryAfter: unit('duration', 'Retry-After sent with a rejection (HTTP); 0s sends none.').default('0s'),
      failure: unit('percent', 'Probability that a served operation fails (HTTP 503, CONNACK 3, no PUBACK).').default('0%'),
    })
    .check((ctx) => {
      const v = ctx.value;
      if (v.servers !== undefined && v.capacity !== undefined) {
        ctx.issues.push({ code: 'custom', path: [], message: 'an operation takes "servers" or "capacity", not both', input: v, params: { hint: 'write servers: 8, or capacity: 400/s' } });
      }
      const queued = v.servers !== undefined || v.capacity !== undefined;
      for (const k of ['queue', 'retryAfter'] as const) {
        if (!queued && ctx.value[k] !== undefined && !(k === 'retryAfter' && v.retryAfter === '0s')) {
          ctx.issues.push({ code: 'custom', path: [k], message: `"${k}" needs "servers" or "capacity": an operation with unlimited servers never queues`, input: v[k], params: { hint: 'write servers: 8 (or capacity: 400/s) next to it', atKey: true } });
        }
      }
    })
    .meta({ description: 'One operation of the modelled backend: service time, servers or capacity, waiting room, what happens when it is full, failures.' });

  const ops = Object.fromEntries(BACKEND_OPS.map((op) => [op, operation.optional().meta({ description: OP_DESCRIPTIONS[op] })])) as Record<(typeof BACKEND_OPS)[number], z.ZodOptional<typeof operation>>;
  return z
    .strictObject({
      lockstep: unit('duration', `Virtual clock: simulated time between the exchanges that give every worker one fleet-wide queue, ${LOCKSTEP_RANGE_MS[0]}ms to ${LOCKSTEP_RANGE_MS[1] / 1000}s. An answer is not delivered before the end of the step its request arrived in (summary.json counts how many waited for it and how long).`, { positive: true }).default(`${DEFAULT_BACKEND.lockstepMs}ms`),
      ...ops,
    })
    .check((ctx) => {
      const l = parseDuration(ctx.value.lockstep);
      if (l.ok && (l.value < LOCKSTEP_RANGE_MS[0] || l.value > LOCKSTEP_RANGE_MS[1])) {
        ctx.issues.push({ code: 'custom', path: ['lockstep'], message: `lockstep ${ctx.value.lockstep} is outside ${LOCKSTEP_RANGE_MS[0]}ms to ${LOCKSTEP_RANGE_MS[1] / 1000}s`, input: ctx.value.lockstep, params: { hint: 'write lockstep: 100ms' } });
      }
    })
    .meta({ description: 'The modelled backend of the virtual clock, per operation: service time, servers or capacity, waiting room and what happens when it is full, failure probability. Operations left out keep the default (unlimited servers, lognormal times of a healthy nearby cloud backend).' });
}

export type BackendInput = z.output<ReturnType<typeof backendSchema>>;

const ms = (text: string) => {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(`resolveBackend: "${text}" passed validation but does not parse`);
  return r.value;
};

function serviceOf(s: NonNullable<NonNullable<BackendInput['connect']>['service']>): ServiceTime {
  if (s.distribution === 'constant') return { kind: 'constant', ms: ms(s.mean!) };
  if (s.distribution === 'exponential') return { kind: 'exponential', meanMs: ms(s.mean!) };
  return s.mean !== undefined ? lognormalFromMeanCv(ms(s.mean), s.cv!) : lognormalFromP50P99(ms(s.p50!), ms(s.p99!));
}

/** The validated `backend:` as the model's spec (DEFAULT_BACKEND for what it leaves out). */
export function resolveBackend(b: BackendInput | undefined): BackendSpec {
  if (b === undefined) return DEFAULT_BACKEND;
  const ops = {} as Record<(typeof BACKEND_OPS)[number], BackendOperation>;
  for (const name of BACKEND_OPS) {
    const o = b[name];
    const base = DEFAULT_BACKEND.ops[name];
    if (o === undefined) {
      ops[name] = base;
      continue;
    }
    const service = o.service ? serviceOf(o.service) : base.service;
    const rate = o.capacity === undefined ? undefined : parseRate(o.capacity);
    const failure = parsePercent(o.failure);
    ops[name] = {
      service,
      servers: o.servers ?? (rate?.ok ? serversForCapacity(rate.value, service) : Infinity),
      queueLimit: o.queue ?? Infinity,
      whenFull: o.whenFull,
      rejectStatus: o.rejectStatus,
      retryAfterMs: ms(o.retryAfter),
      failure: failure.ok ? failure.value : 0,
    };
  }
  return { lockstepMs: ms(b.lockstep), ops };
}
