/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP date. Returns milliseconds to
 * wait, 0 when the header is absent, unreadable or already in the past. Decimal seconds are
 * accepted too, because some servers send them.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number = Date.now()): number {
  if (value === undefined) return 0;
  const text = (Array.isArray(value) ? value[0] ?? '' : value).trim();
  if (text.length === 0) return 0;
  if (isSeconds(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? 0 : Math.max(0, at - nowMs);
}

function isSeconds(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x30 || c > 0x39) && c !== 0x2e /* . */) return false;
  }
  return true;
}
