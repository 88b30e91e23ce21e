import { ACTIVITIES, type Activity, type VolumeByActivity } from './data-volume.js';

/**
 * What a device's data costs a month, by activity, from its bytes and messages per day and a price
 * list: per MB on its link, or a plan (monthly fee with an allowance and a price per MB over it),
 * per message on platforms that bill messages, and a flat fee per device per month.
 *
 *   month            = 365.25 / 12 days (30.44)
 *   per MB           cost_a = bytes_a / 10^6 * price                      (MB = 10^6 bytes, as billed)
 *   plan             fee + max(0, bytes - allowance) / 10^6 * over, the overage shared by byte share
 *   per message      cost_a = messages_a / 10^6 * price per million
 *   per device       a flat fee (device management, connectivity management)
 */

export const DAYS_PER_MONTH = 365.25 / 12;
const MB = 1e6;

export type LinkPrice = { readonly kind: 'per-mb'; readonly perMB: number } | { readonly kind: 'plan'; readonly monthly: number; readonly allowanceBytes: number; readonly overPerMB: number };

export interface PriceList {
  readonly currency: string;
  /** Price of data by link type name (a link without a price costs nothing for data). */
  readonly links: Readonly<Record<string, LinkPrice>>;
  readonly perMessage?: { readonly perMillion: number; readonly meterBytes: number };
  readonly perDeviceMonth: number;
}

export interface MonthlyCost {
  /** Data and messages by activity. */
  byActivity: Record<Activity, number>;
  /** Plan fees (the part of a plan not caused by any one activity). */
  plan: number;
  /** Per-device fees. */
  device: number;
  total: number;
  /** Bytes a month (up + down). */
  bytes: number;
}

/** One device's monthly cost on `link` from its daily volume and billable messages. */
export function monthlyCost(prices: PriceList, link: string, perDay: VolumeByActivity, messagesPerDay: Record<Activity, number>): MonthlyCost {
  const byActivity = Object.fromEntries(ACTIVITIES.map((a) => [a, 0])) as Record<Activity, number>;
  const bytes = Object.fromEntries(ACTIVITIES.map((a) => [a, (perDay[a].up + perDay[a].down) * DAYS_PER_MONTH])) as Record<Activity, number>;
  const total = ACTIVITIES.reduce((s, a) => s + bytes[a], 0);
  const price = prices.links[link];
  let plan = 0;
  if (price?.kind === 'per-mb') {
    for (const a of ACTIVITIES) byActivity[a] += (bytes[a] / MB) * price.perMB;
  } else if (price?.kind === 'plan') {
    plan = price.monthly;
    const over = (Math.max(0, total - price.allowanceBytes) / MB) * price.overPerMB;
    if (total > 0) for (const a of ACTIVITIES) byActivity[a] += (over * bytes[a]) / total;
  }
  if (prices.perMessage) {
    for (const a of ACTIVITIES) byActivity[a] += ((messagesPerDay[a] * DAYS_PER_MONTH) / MB) * prices.perMessage.perMillion;
  }
  const sum = ACTIVITIES.reduce((s, a) => s + byActivity[a], 0) + plan + prices.perDeviceMonth;
  return { byActivity, plan, device: prices.perDeviceMonth, total: sum, bytes: total };
}
