/**
 * Escaping for every format the report writers emit. Scenario names, device ids, release names
 * and error texts come from users and devices: nothing reaches HTML or XML without passing here.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Controls HTML forbids in text (NUL, ESC, DEL ...; tab, LF and CR are fine): they become U+FFFD.
// eslint-disable-next-line no-control-regex
const HTML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** Text for HTML element content or a quoted attribute value. */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(HTML_INVALID, '\uFFFD')
    .replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/** Longest line the console prints; longer ones are cut with a marker saying how much. */
export const CONSOLE_LINE_MAX = 2000;

// What a terminal would act on rather than print: C0 controls but tab (ESC, NUL, BEL, CR ...),
// DEL, C1 controls (CSI 0x9b among them), bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Text for the console, line by line: whatever a device or backend put into it cannot move the
 * cursor, recolour, clear or retitle the terminal, and no line runs past CONSOLE_LINE_MAX.
 */
export function terminalText(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const clean = line.replace(TERMINAL_UNSAFE, '\uFFFD');
      return clean.length > CONSOLE_LINE_MAX ? `${clean.slice(0, CONSOLE_LINE_MAX)}… [${(clean.length - CONSOLE_LINE_MAX).toLocaleString('en-US')} more characters cut]` : clean;
    })
    .join('\n');
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
