import { UPDATE_STATUSES } from './state.js';
import { isJsonObject as isObj } from '../../../wire/answer-shapes.js';

/**
 * The shapes the balena API validates device requests against, checked as it checks them, so a
 * preset that sends something else gets the platform's 400 instead of silent success:
 *
 * - registration: open-balena-api src/features/device-provisioning/register.ts (zod body, then
 *   `checkInt` of application and user, device_type and uuid required);
 * - state report v3: src/features/device-state/routes/state-patch-v3.ts (zod record of device
 *   uuid -> partial device fields and apps -> release_uuid, releases -> update_status enum and
 *   services -> {image, status?, download_progress?});
 * - log batch: src/features/device-logs/lib/store.ts and supervisor.ts (array of
 *   {timestamp, message, isStdErr?, isSystem?, serviceId?, uuid?}, at most 10 per batch).
 *
 * Each returns the first problem as the API's message, or the checked value.
 */

export interface Registration {
  application: number;
  uuid: string;
  deviceType: string;
  apiKey?: string;
  fields: Record<string, string | null | undefined>;
}

/** open-balena-api device-logs/lib/supervisor.ts MAX_LOGS_PER_BATCH. */
export const MAX_LOGS_PER_BATCH = 10;

const nullish = (v: unknown): boolean => v === null || v === undefined;

/** lib/utils.ts checkInt: an integer, or a string of one. */
function checkInt(v: unknown): number | false {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : false;
}

export function checkRegistration(body: unknown): Registration | string {
  if (!isObj(body)) return 'Expected object';
  for (const k of ['user', 'application'] as const) {
    const v = body[k];
    if (!nullish(v) && typeof v !== 'number' && typeof v !== 'string') return `${k}: Expected number or string`;
  }
  for (const k of ['device_type', 'uuid', 'api_key', 'supervisor_version', 'os_version', 'os_variant', 'mac_address'] as const) {
    if (!nullish(body[k]) && typeof body[k] !== 'string') return `${k}: Expected string`;
  }
  if (!nullish(body.user) && checkInt(body.user) === false) return 'User ID must be a valid integer';
  const application = checkInt(body.application);
  if (application === false) return 'Application ID must be a valid integer';
  if (nullish(body.device_type)) return 'Device type must be specified';
  if (nullish(body.uuid)) return 'UUID must be specified';
  return {
    application,
    uuid: body.uuid as string,
    deviceType: body.device_type as string,
    ...(nullish(body.api_key) ? {} : { apiKey: body.api_key as string }),
    fields: { supervisor_version: body.supervisor_version as string, os_version: body.os_version as string, os_variant: body.os_variant as string, mac_address: body.mac_address as string },
  };
}

type Kind = 'string' | 'number' | 'boolean';
/** Device fields of a v3 report and their types; `true` in the tuple: nullable. */
const DEVICE_FIELDS: Record<string, [Kind, boolean]> = {
  name: ['string', false],
  status: ['string', false],
  os_version: ['string', true],
  os_variant: ['string', true],
  supervisor_version: ['string', false],
  provisioning_progress: ['number', true],
  provisioning_state: ['string', true],
  ip_address: ['string', false],
  mac_address: ['string', false],
  api_port: ['number', false],
  api_secret: ['string', true],
  memory_usage: ['number', true],
  memory_total: ['number', true],
  storage_block_device: ['string', true],
  storage_usage: ['number', true],
  storage_total: ['number', true],
  cpu_temp: ['number', true],
  cpu_usage: ['number', true],
  cpu_id: ['string', true],
  is_undervolted: ['boolean', false],
  is_online: ['boolean', false],
};
const STATUSES: ReadonlySet<string> = new Set(UPDATE_STATUSES);

/** undefined when `body` is a valid v3 state report; else the first problem. */
export function checkStatePatch(body: unknown): string | undefined {
  if (!isObj(body)) return 'Expected object';
  for (const [uuid, dev] of Object.entries(body)) {
    if (!isObj(dev)) return `${uuid}: Expected object`;
    for (const [k, v] of Object.entries(dev)) {
      if (k === 'apps') continue;
      const f = DEVICE_FIELDS[k];
      // zod's object() strips keys it does not know: they are ignored, not refused.
      if (f === undefined) continue;
      if (v === null ? !f[1] : typeof v !== f[0]) return `${uuid}.${k}: Expected ${f[0]}${f[1] ? ' or null' : ''}`;
    }
    if (dev.apps === undefined) continue;
    if (!isObj(dev.apps)) return `${uuid}.apps: Expected object`;
    for (const [appUuid, app] of Object.entries(dev.apps)) {
      const at = `${uuid}.apps.${appUuid}`;
      if (!isObj(app)) return `${at}: Expected object`;
      if (app.release_uuid !== undefined && typeof app.release_uuid !== 'string') return `${at}.release_uuid: Expected string`;
      if (app.releases === undefined) continue;
      if (!isObj(app.releases)) return `${at}.releases: Expected object`;
      for (const [commit, rel] of Object.entries(app.releases)) {
        const rt = `${at}.releases.${commit}`;
        if (!isObj(rel)) return `${rt}: Expected object`;
        if (rel.update_status !== undefined && (typeof rel.update_status !== 'string' || !STATUSES.has(rel.update_status))) return `${rt}.update_status: Invalid enum value. Expected ${UPDATE_STATUSES.map((s) => `'${s}'`).join(' | ')}`;
        if (rel.services === undefined) continue;
        if (!isObj(rel.services)) return `${rt}.services: Expected object`;
        for (const [name, svc] of Object.entries(rel.services)) {
          const st = `${rt}.services.${name}`;
          if (!isObj(svc)) return `${st}: Expected object`;
          if (typeof svc.image !== 'string') return `${st}.image: Required string`;
          if (svc.status !== undefined && typeof svc.status !== 'string') return `${st}.status: Expected string`;
          if (svc.download_progress !== undefined && svc.download_progress !== null && typeof svc.download_progress !== 'number') return `${st}.download_progress: Expected number or null`;
        }
      }
    }
  }
  return undefined;
}

/** Lines of a valid batch (and how many were the supervisor's suppression notice), or the first problem. */
export function checkLogBatch(body: unknown): { lines: number; suppressedNotices: number } | string {
  if (!Array.isArray(body)) return 'Expected array';
  for (let i = 0; i < body.length; i++) {
    const l: unknown = body[i];
    if (!isObj(l)) return `${i}: Expected object`;
    if (typeof l.timestamp !== 'number') return `${i}.timestamp: Expected number`;
    if (typeof l.message !== 'string') return `${i}.message: Expected string`;
    for (const k of ['isStdErr', 'isSystem'] as const) if (l[k] !== undefined && typeof l[k] !== 'boolean') return `${i}.${k}: Expected boolean`;
    if (l.serviceId !== undefined && typeof l.serviceId !== 'number') return `${i}.serviceId: Expected number`;
    if (l.uuid !== undefined && typeof l.uuid !== 'string') return `${i}.uuid: Expected string`;
  }
  if (body.length > MAX_LOGS_PER_BATCH) return `Batches cannot include more than ${MAX_LOGS_PER_BATCH} logs`;
  // Old-format supervisor logs (is_stderr, is_system, image_id) are refused after the count.
  for (const l of body as Array<Record<string, unknown>>) if (l.is_stderr != null || l.is_system != null || l.image_id != null) return 'Bad Request';
  let suppressedNotices = 0;
  for (const l of body as Array<{ message: string; isSystem?: boolean }>) if (l.isSystem === true && SUPPRESSED.test(l.message)) suppressedNotices++;
  return { lines: body.length, suppressedNotices };
}

/** balena-supervisor's notice after dropping lines (src/logging/balena-backend.ts). */
const SUPPRESSED = /^Warning: Suppressed \d+ message\(s\)/;
