/**
 * Text from the other side of the wire (a backend's error body, a campaign's state or abort
 * reason) before it enters a summary, the console or a log: a backend may answer anything,
 * including terminal escapes, NUL, bidirectional overrides or a megabyte on one line.
 * Control characters become U+FFFD (one line, nothing a terminal acts on), lone surrogates too,
 * and text past `max` characters is cut with a marker saying how much was cut.
 */

/** Longest backend-supplied text a summary keeps, characters. */
export const UNTRUSTED_TEXT_MAX = 500;

// C0 controls (NUL, ESC, CR, LF ...), DEL, C1 controls (CSI 0x9b among them), bidi embeddings,
// overrides and isolates; lone surrogates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function untrustedText(text: unknown, max = UNTRUSTED_TEXT_MAX): string {
  const s = String(text);
  if (s.length <= max) return s.replace(UNSAFE, '\uFFFD');
  // Never end inside a surrogate pair.
  const end = s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return `${s.slice(0, end).replace(UNSAFE, '\uFFFD')}… [${(s.length - end).toLocaleString('en-US')} more characters cut]`;
}
