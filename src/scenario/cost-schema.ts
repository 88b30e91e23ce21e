import * as z from 'zod';
import type { SchemaHelpers } from './fleet-ops-schema.js';

/**
 * The scenario's `cost:` section: prices of data and messages, the protocol choices that set how
 * many bytes a device sends (IP version, TLS), and "what if" variations priced next to the run
 * (models/data-volume.ts, models/data-cost.ts). Part of the one scenario schema (schema.ts).
 */
export function costSchema(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const price = (d: string) => withHint(z.number().min(0).meta({ description: `${d} In the scenario's currency.` }), 'a price: a number, at least 0, such as 0.45');
  const linkPrice = z
    .union([
      z.strictObject({ perMB: price('Price of one MB (10^6 bytes, up and down counted).') }),
      z.strictObject({
        plan: z.strictObject({
          monthly: price('Monthly fee of the plan.'),
          allowance: unit('size', 'Data included each month.'),
          overPerMB: price('Price of each MB over the allowance.'),
        }),
      }),
    ])
    .meta({ description: 'Per MB: { perMB: 0.40 }; or a plan: { plan: { monthly: 1.00, allowance: 5MB, overPerMB: 0.20 } }.' });
  const whatIf = z
    .strictObject({
      poll: unit('duration', 'Poll every this long instead.', { positive: true }).optional(),
      keepalive: unit('duration', 'MQTT keepalive instead.', { positive: true }).optional(),
      delta: unit('percent', 'Updates downloaded as deltas of this share of the full image.').optional(),
      batch: withHint(z.int().min(1).max(1000).optional().meta({ description: 'Reports sent together in one PUBLISH.' }), 'a whole number of reports per message, 1 to 1000'),
    })
    .meta({ description: 'One variation of the run, priced from the same counts with one choice changed.' });
  return z
    .strictObject({
      currency: z.string().min(1).max(8).default('USD').meta({ description: 'Currency of every price (a label).' }),
      links: z.record(z.string(), linkPrice).default({}).meta({ description: 'Price of data by link type (the fleet groups\' links); a link without a price costs nothing for data.' }),
      perMessage: z
        .strictObject({
          perMillion: price('Price of one million messages.'),
          meter: unit('size', 'Messages are metered in increments of this size (AWS IoT Core: 5KB).').default('5KB'),
        })
        .optional()
        .meta({ description: 'Per-message platforms: each telemetry or log PUBLISH costs ceil(size / meter) messages.' }),
      perDeviceMonth: price('Flat fee per device per month (device or connectivity management).').default(0),
      ip: z.enum(['ipv4', 'ipv6']).default('ipv4').meta({ description: 'IP version: 20 B or 40 B of header per packet.' }),
      tls: z.enum(['1.3', '1.2', 'none']).default('1.3').meta({ description: 'TLS version of MQTT and HTTP (none: plain TCP).' }),
      resumption: z.boolean().default(true).meta({ description: 'TLS sessions are resumed after the first full handshake.' }),
      httpIdle: unit('duration', "How long the server keeps an idle HTTP connection (Node's default 5s, nginx 75s): polls further apart open a new connection each.", { positive: true }).default('5s'),
      whatIf: z.array(whatIf).default([]).meta({ description: 'Variations to price next to the run: poll interval, keepalive, delta updates, batching.' }),
    })
    .optional()
    .meta({ description: 'What the fleet costs to run: data per device and link counted at the protocol level, priced per MB, plan, message and device.' });
}
