import * as z from 'zod';
import type { SchemaHelpers } from './fleet-ops-schema.js';

/**
 * The scenario's `lifetime:` section: the fleet over years (models/fleet-years.ts). A production
 * plan brings devices in month by month; each batch is one of the scenario's fleet groups (its
 * profile revision), whose simulated behaviour sets the batch's battery life, storage writes and
 * data use. Updates (campaigns) install over a spread of time; devices leave worn out, failed,
 * bricked, depleted or at a planned retirement age. Part of the one scenario schema (schema.ts).
 */
export function lifetimeSchema(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const whole = (d: string, min: number, hint: string) => withHint(z.int().min(min).meta({ description: d }), hint);
  return z
    .strictObject({
      years: withHint(z.int().min(1).max(30).meta({ description: 'Years to follow the fleet.' }), 'a whole number of years, 1 to 30'),
      production: z
        .array(
          z.strictObject({
            startMonth: whole('First month of the batch, counted from 0.', 0, 'a whole number of months from the start, 0 or more'),
            months: whole('How many months the batch is made.', 1, 'a whole number of months, at least 1'),
            perMonth: whole('Units made each month.', 0, 'a whole number of units a month'),
            group: whole('The fleet group (index into fleet:, from 0) whose profile revision this batch is.', 0, 'the index of a fleet group, e.g. group: 0'),
          }),
        )
        .min(1)
        .meta({ description: 'The production plan: batches of units per month, each a fleet group (a profile revision).' }),
      campaigns: z
        .array(
          z.strictObject({
            at: unit('duration', 'When the campaign starts.'),
            release: z.string().min(1).meta({ description: 'Release name.' }),
            image: unit('size', 'Bytes written to storage by the install (the full image, also for a delta download).', { positive: true }),
            spread: unit('duration', 'Devices install at a random time within this long of the start.').default('30d'),
          }),
        )
        .default([])
        .meta({ description: 'Updates over the years: each installs on every working device, with power cuts during the install.' }),
      retireAt: unit('duration', 'Planned retirement age: devices still working are decommissioned then.', { positive: true }).optional(),
      replace: z.boolean().default(true).meta({ description: 'Failed devices are replaced by a unit of the revision in production.' }),
      replaceAfter: unit('duration', 'Time from a device going dark to its removal (and replacement).').default('30d'),
      storeReports: z.enum(['all', 'offline']).default('offline').meta({ description: 'Reports written to flash: all (store and forward) or only while offline.' }),
    })
    .optional()
    .meta({ description: 'The fleet over years: production ramp, updates, failures, retirement (on the virtual clock, after the simulated window).' });
}
