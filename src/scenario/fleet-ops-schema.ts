import * as z from 'zod';
import { parseDuration, parsePercent, type Parsed } from '../models/units.js';

/**
 * The scenario's fleet-operation shapes: update campaigns, configuration pushes and commands as
 * phases; downloads, logs, diagnostics and configuration as device behaviour; factory
 * provisioning. Part of the one scenario schema (schema.ts builds them with its own unit
 * helpers, passed in to keep one definition of units, hints and JSON Schema metadata).
 */

type Unit = 'duration' | 'size' | 'rate' | 'percent';
export interface SchemaHelpers {
  /** `min` and `max` are written in the unit (e.g. '1ms'); without `max`, the kind's largest value applies (schema.ts). */
  unit(kind: Unit, description: string, opts?: { positive?: boolean; min?: string; max?: string }): z.ZodString;
  withHint<T extends z.ZodType>(schema: T, hint: string): T;
}

export const ABORT_IF_PATTERN = /^\s*failure_rate\s*>\s*(\d+(\.\d+)?%)\s*$/;

/** The threshold of `abortIf: "failure_rate > 5%"`, as a fraction. */
export function parseAbortIf(text: string): Parsed<number> {
  const m = ABORT_IF_PATTERN.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not an abort rule`, hint: 'write abortIf: "failure_rate > 5%"' };
  return parsePercent(m[1]);
}

/** The rollout strategy, written or inferred from the fields given. */
export function strategyOf(r: { strategy?: 'all' | 'constant' | 'exponential' | 'steps'; steps?: unknown; growth?: unknown; rate?: unknown }): 'all' | 'constant' | 'exponential' | 'steps' {
  if (r.strategy) return r.strategy;
  if (r.steps !== undefined) return 'steps';
  if (r.growth !== undefined) return 'exponential';
  return r.rate !== undefined ? 'constant' : 'all';
}

export function fleetOpsSchemas(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const pct = (d: string) => unit('percent', d);

  const rollout = z
    .strictObject({
      strategy: z.enum(['all', 'constant', 'exponential', 'steps']).optional().meta({ description: 'all at once; constant rate; exponential (rate x growth every period); steps gated on the failure rate of the previous step. Default: steps when `steps` is given, exponential with `growth`, constant with `rate`, else all.' }),
      rate: unit('rate', 'constant: devices admitted per unit of time; exponential: the starting rate.', { positive: true }).optional(),
      growth: z.number().gt(1).max(1000).optional().meta({ description: 'exponential: rate multiplier per period.' }),
      every: unit('duration', 'exponential: length of one period.', { positive: true, min: '1ms' }).optional(),
      steps: z.array(pct('Share of the fleet admitted by this step.')).min(1).optional().meta({ description: 'steps: cumulative shares, ascending, the last 100%.', examples: [['1%', '10%', '100%']] }),
      stepWait: unit('duration', 'steps: soak time of a step before its failure rate is checked and the next step starts.', { positive: true }).default('1m'),
    })
    .check((ctx) => {
      const r = ctx.value;
      const strategy = strategyOf(r);
      const need = (k: 'rate' | 'growth' | 'every' | 'steps', hint: string) => {
        if (r[k] === undefined) ctx.issues.push({ code: 'custom', path: [], message: `strategy ${strategy} needs "${k}"`, input: r, params: { hint } });
      };
      if (strategy === 'constant') need('rate', 'write rollout: { strategy: constant, rate: 100/m }');
      if (strategy === 'exponential') {
        for (const k of ['rate', 'growth', 'every'] as const) need(k, 'write rollout: { strategy: exponential, rate: 10/m, growth: 2, every: 1m }');
      }
      if (strategy === 'steps') {
        need('steps', 'write rollout: { strategy: steps, steps: [1%, 10%, 100%], stepWait: 5m }');
        const s = (r.steps ?? []).map((x) => parsePercent(x)).map((p) => (p.ok ? p.value : NaN));
        if (s.length > 0 && (s.some((v, i) => i > 0 && !(v > s[i - 1])) || s[s.length - 1] !== 1)) {
          ctx.issues.push({ code: 'custom', path: ['steps'], message: 'steps must increase and end at 100%', input: r.steps, params: { hint: 'write steps: [1%, 10%, 100%]' } });
        }
      }
    })
    .meta({ description: 'How fast the campaign admits devices.' });

  const abortIf = withHint(
    z
      .string()
      .check((ctx) => {
        const p = parseAbortIf(ctx.value);
        if (!p.ok) ctx.issues.push({ code: 'custom', message: p.message, input: ctx.value, params: { hint: p.hint } });
      })
      .meta({ description: 'Stop admitting devices when the failure rate (failed or rolled back / finished) passes this.', examples: ['failure_rate > 5%'] }),
    'write abortIf: "failure_rate > 5%"',
  );

  const update = z
    .strictObject({
      release: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/).meta({ description: 'Release name, e.g. app-2.0.' }),
      target: z.enum(['app', 'os']).default('app').meta({ description: 'app: restart the application; os: host OS image, reboot (A/B).' }),
      size: unit('size', 'Full artifact size.', { positive: true }),
      delta: z.strictObject({ from: z.string().min(1).meta({ description: 'Release the delta applies to.' }), size: unit('size', 'Delta artifact size.', { positive: true }) }).optional().meta({ description: 'A smaller artifact for devices on `from`.' }),
      archs: z.array(z.string().min(1)).min(1).optional().meta({ description: 'CPU architectures built for (default: every arch of the fleet); devices of other archs never install it.' }),
      rollout: rollout.prefault({}),
      abortIf: abortIf.optional(),
      minSample: withHint(z.int().min(1).max(10_000_000).default(10).meta({ description: 'Finished devices needed before abortIf can trip (per step for steps).' }), 'a whole number, at least 1'),
      notify: z.enum(['mqtt', 'poll']).default('mqtt').meta({ description: 'mqtt: admitted devices are told at once (and find it on their next poll); poll: only on their next poll.' }),
      maintenanceWindow: z
        .strictObject({
          opens: unit('duration', 'When the window first opens, from the start of the run.'),
          length: unit('duration', 'How long it stays open.', { positive: true }),
          every: unit('duration', 'How often it opens again.', { positive: true, min: '1ms' }).default('1d'),
        })
        .optional()
        .meta({ description: 'Devices download at once but install only while the window is open.' }),
      failureRate: pct('Probability that the health check after install fails (then A/B rollback).').default('0%'),
      failureByProfile: z.record(z.string(), pct('Health-check failure probability for this profile.')).optional().meta({ description: 'Per-profile failure probabilities, overriding failureRate.' }),
      corrupt: pct('Fault injection: share of devices served a corrupted artifact (checksum failure).').optional(),
      recurs: unit('duration', 'For battery projections: an update like this one reaches each device this often in service (e.g. 90d). Without it, its energy is counted once.', { positive: true }).optional(),
    })
    .meta({ description: 'Roll out a release as an update campaign.' });

  const config = z
    .strictObject({
      set: z.record(z.string(), z.string()).meta({ description: 'Configuration variables and their new values.' }),
    })
    .meta({ description: 'Push a configuration change to the fleet; devices apply and acknowledge it.' });

  const command = z
    .strictObject({
      name: z.string().min(1).default('diagnostics').meta({ description: 'Command name.' }),
      devices: pct('Share of online devices that get it (picked by rollout rank).').default('100%'),
    })
    .meta({ description: 'Send a command (diagnostics) to online devices; each answers after its processing time.' });

  const byProfileDuration = z.record(z.string(), unit('duration', 'Processing time for this profile.')).optional().meta({ description: 'Per-profile overrides.' });
  const behaviour = {
    download: z
      .strictObject({
        chunk: unit('duration', 'Link time carried by one Range request (chunk size = link bandwidth x this).', { positive: true, min: '1ms' }).default('2s'),
        lowSpeedLimit: unit('size', 'Abort a download slower than this per second ...').default('100B'),
        lowSpeedTime: unit('duration', '... for this long (rauc-hawkbit-updater: 100 B/s for 60 s).', { positive: true }).default('60s'),
        healthCheck: unit('duration', 'Time from boot to the health-check verdict.', { positive: true }).default('5s'),
        appRestart: unit('duration', 'Restart time of an application update.', { positive: true }).default('2s'),
      })
      .optional()
      .meta({ description: 'How devices download, install and check updates.' }),
    logs: z
      .strictObject({
        rate: unit('rate', 'Log lines per device.', { positive: true, max: '1000/s' }),
        lineSize: unit('size', 'Size of one log line.', { positive: true }).default('120B'),
        buffer: unit('size', 'Device log buffer; full means lines are dropped (balena: 256KiB).', { positive: true }).default('256KiB'),
        flushEvery: unit('duration', 'How often an online device ships its buffer.', { positive: true, min: '1ms' }).default('5s'),
      })
      .optional()
      .meta({ description: 'Devices stream logs through a bounded buffer.' }),
    diagnostics: z
      .strictObject({
        processing: unit('duration', 'Time a device takes to answer a diagnostics command.').default('200ms'),
        byProfile: byProfileDuration,
      })
      .optional()
      .meta({ description: 'How devices answer remote commands.' }),
    config: z
      .strictObject({ apply: unit('duration', 'Time a device takes to apply a configuration change.').default('50ms') })
      .optional()
      .meta({ description: 'How devices apply configuration changes.' }),
  };

  const provisioning = z
    .strictObject({
      mode: z.enum(['auto', 'manual']).default('auto').meta({ description: 'auto: the fleet key is enough; manual: new devices wait for an operator approval.' }),
      approvalRate: unit('rate', 'manual: devices the operator approves per unit of time.', { positive: true }).optional(),
      endOfLineTest: z.boolean().default(false).meta({ description: 'At first boot each device reports an end-of-line connectivity test.' }),
    })
    .check((ctx) => {
      if (ctx.value.mode === 'manual' && ctx.value.approvalRate === undefined) {
        ctx.issues.push({ code: 'custom', path: [], message: 'manual provisioning needs "approvalRate"', input: ctx.value, params: { hint: 'write provisioning: { mode: manual, approvalRate: 50/s }' } });
      }
    })
    .meta({ description: 'Factory provisioning: automatic with the fleet key, or manual approval at a rate.' });

  return { update, config, command, behaviour, provisioning };
}

/** A duration that passed validation, in ms (for resolve.ts). */
export function durationMs(text: string): number {
  const p = parseDuration(text);
  if (!p.ok) throw new Error(`fleet-ops: ${p.message} passed validation`);
  return p.value;
}
