/**
 * Escaping for every format the report writers emit. Scenario names, device ids, release names
 * and error texts come from users and devices: nothing reaches HTML or XML without passing here.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content or a quoted attribute value. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/**
 * XML 1.0 allows only tab, LF and CR below U+0020 (and no lone surrogates or U+FFFE/U+FFFF), even
 * escaped; a device-supplied control character would make the whole junit.xml unreadable, so it
 * becomes U+FFFD instead.
 */
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for XML element content or a double-quoted attribute value. */
export function escapeXml(text: unknown): string {
  return String(text)
    .replace(XML_INVALID, '\uFFFD')
    .replace(/[&<>"']/g, (c) => (c === "'" ? '&apos;' : HTML_ENTITIES[c]))
    // Attribute-value normalisation would turn these into spaces; keep them as written.
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

/**
 * JSON for a `<script type="application/json">` block: `<` is escaped so that no string can close
 * the script element or open a comment, and U+2028/U+2029 so that the text is also valid JS.
 * The saved JSON files use it too: they parse the same, and stay inert if a server ever sends
 * them as HTML.
 */
export function jsonForScript(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
