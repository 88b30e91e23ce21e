import { NO_RETRY_AFTER } from '../types.js';

/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP date. Returns milliseconds to
 * wait (0 for a date already past), or NO_RETRY_AFTER (-1) when the header is absent or
 * unreadable, so "the answer carried one" stays distinguishable from "retry now". Decimal seconds
 * are accepted too, because some servers send them.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number = Date.now()): number {
  if (value === undefined) return NO_RETRY_AFTER;
  const text = (Array.isArray(value) ? value[0] ?? '' : value).trim();
  if (text.length === 0) return NO_RETRY_AFTER;
  if (isSeconds(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : NO_RETRY_AFTER;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? NO_RETRY_AFTER : Math.max(0, at - nowMs);
}

function isSeconds(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x30 || c > 0x39) && c !== 0x2e /* . */) return false;
  }
  return true;
}
