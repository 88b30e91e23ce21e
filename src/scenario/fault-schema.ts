import * as z from 'zod';
import { FAULT_HTTP_ROUTES } from '../faults/spec.js';
import type { SchemaHelpers } from './fleet-ops-schema.js';

/**
 * The shapes of fault phases (`backend:` blocks) and their scope: part of the one scenario schema
 * (schema.ts builds them with its own unit helpers). What each fault does is in faults/spec.ts.
 */
export function faultSchemas(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const share = (what: string) => unit('percent', `Share of ${what} the fault picks.`).default('100%');

  const latency = z
    .union([
      unit('duration', 'A fixed delay added to every picked answer.'),
      z.strictObject({
        distribution: z.enum(['lognormal', 'exponential', 'pareto', 'weibull']).default('lognormal').meta({ description: 'Family of the added delays.' }),
        median: unit('duration', 'Median added delay.', { positive: true }),
        shape: z.number().positive().optional().meta({ description: 'lognormal sigma, Pareto alpha or Weibull shape (defaults: 1, 2.5, 1).' }),
      }),
    ])
    .meta({ description: 'Added latency: a duration (fixed), or { distribution, median, shape } drawn per request.' });

  const httpKinds = ['status', 'latency', 'reset', 'stall', 'body'] as const;
  const http = z
    .strictObject({
      routes: z.array(z.enum(FAULT_HTTP_ROUTES)).min(1).optional().meta({ description: 'Routes the fault acts on (default: all of them).' }),
      share: share('requests'),
      status: withHint(z.int().min(400).max(599).optional().meta({ description: 'Answer with this HTTP status instead of forwarding.' }), 'an HTTP error status such as 503 or 429'),
      retryAfter: unit('duration', 'Retry-After sent with `status` (whole seconds on the wire).').optional(),
      latency: latency.optional(),
      reset: z.literal(true).optional().meta({ description: 'Close the connection without answering (TCP reset).' }),
      stall: z.literal(true).optional().meta({ description: 'Never answer: the request runs into the client timeout.' }),
      body: z.enum(['garbage', 'wrong-shape']).optional().meta({ description: 'Answer 200 with a body that is not JSON (garbage) or JSON of the wrong shape.' }),
    })
    .check((ctx) => {
      const kinds = httpKinds.filter((k) => ctx.value[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.issues.push({ code: 'custom', path: [], message: kinds.length === 0 ? `an http fault needs one of: ${httpKinds.join(', ')}` : `an http fault does one thing, not ${kinds.join(' and ')}`, input: ctx.value, params: { hint: 'write http: { routes: [poll], status: 503, share: 30%, retryAfter: 5s }; split several faults into several phases' } });
      }
      if (ctx.value.retryAfter !== undefined && ctx.value.status === undefined) {
        ctx.issues.push({ code: 'custom', path: ['retryAfter'], message: '"retryAfter" goes with "status"', input: ctx.value.retryAfter, params: { hint: 'write http: { status: 503, retryAfter: 5s }', atKey: true } });
      }
    })
    .meta({ description: 'Faults of the HTTP API, through the fault proxy: a status (with Retry-After), added latency, resets, stalls or bad bodies.' });

  const picked = (description: string) => z.strictObject({ share: share('sessions') }).meta({ description });
  const mqttKinds = ['disconnect', 'refuse', 'dropPubacks', 'blackhole'] as const;
  const mqtt = z
    .strictObject({
      disconnect: picked('Close the picked sessions when the phase starts; while it lasts, their new sessions close right after CONNECT.').optional(),
      refuse: z
        .strictObject({
          share: share('sessions'),
          code: withHint(z.int().min(1).max(5).default(3).meta({ description: 'CONNACK return code: 1 protocol, 2 identifier, 3 server unavailable, 4 credentials, 5 not authorized.' }), 'a CONNACK return code from 1 to 5; 3 is server unavailable'),
        })
        .optional()
        .meta({ description: 'Answer the picked CONNECTs with a CONNACK refusal.' }),
      dropPubacks: picked("Drop the broker's PUBACKs to the picked sessions, so QoS 1 publishes go unacknowledged and are retried.").optional(),
      blackhole: picked('Partition: bytes stop both ways for the picked sessions, sockets stay open.').optional(),
    })
    .check((ctx) => {
      const kinds = mqttKinds.filter((k) => ctx.value[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.issues.push({ code: 'custom', path: [], message: kinds.length === 0 ? `an mqtt fault needs one of: ${mqttKinds.join(', ')}` : `an mqtt fault does one thing, not ${kinds.join(' and ')}`, input: ctx.value, params: { hint: 'write mqtt: { disconnect: { share: 50% } }; split several faults into several phases' } });
      }
    })
    .meta({ description: 'Faults of the MQTT broker, through the fault proxy.' });

  const backendKinds = ['http', 'mqtt', 'broker'] as const;
  const backend = z
    .strictObject({
      http: http.optional(),
      mqtt: mqtt.optional(),
      broker: z.literal('restart').optional().meta({ description: 'restart: kill the local Mosquitto processes (mqtt: local-mosquitto) and start them again on the same ports after `for` (default: at once).' }),
    })
    .check((ctx) => {
      const kinds = backendKinds.filter((k) => ctx.value[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.issues.push({ code: 'custom', path: [], message: kinds.length === 0 ? `a backend fault needs one of: ${backendKinds.join(', ')}` : `a backend fault has one target, not ${kinds.join(' and ')}`, input: ctx.value, params: { hint: 'write backend: { http: { status: 503 } }, backend: { mqtt: { disconnect: {} } } or backend: { broker: restart }' } });
      }
    })
    .meta({ description: 'A fault injected between the devices and the backend, from `at` for `for`.' });

  const scope = z
    .strictObject({
      devices: unit('percent', 'Share of devices (picked per device for the whole phase).').optional(),
      profile: z.string().min(1).optional().meta({ description: 'Only devices of this hardware profile (fleet[].profile).' }),
      link: z.string().min(1).optional().meta({ description: 'Only devices on this link type (fleet[].link).' }),
      cells: unit('percent', 'Share of cells (fleet[].cells) whose devices the fault picks.').optional(),
    })
    .meta({ description: 'Which devices a backend fault applies to; every condition given must hold. The proxy knows a device by its serial, device id or MQTT client id.' });

  return { backend, scope };
}
