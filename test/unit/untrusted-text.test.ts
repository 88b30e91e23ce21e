import { describe, expect, it } from 'vitest';
import { UNTRUSTED_TEXT_MAX, untrustedText } from '../../src/wire/untrusted-text.js';
import { CONSOLE_LINE_MAX, escapeHtml, terminalText } from '../../src/report/escape.js';

describe('untrustedText: a backend\'s words made safe to keep', () => {
  it('replaces controls, bidi overrides and lone surrogates with U+FFFD and keeps the rest', () => {
    expect(untrustedText('a\x1b[31mb\x00c\r\nd\u009be\u202Ef\uD800g')).toBe('a\uFFFD[31mb\uFFFDc\uFFFD\uFFFDd\uFFFDe\uFFFDf\uFFFDg');
    expect(untrustedText('<script>é 😀</script>')).toBe('<script>é 😀</script>');
  });

  it('cuts at the limit with a marker saying how much was cut, never inside a surrogate pair', () => {
    expect(untrustedText('x'.repeat(UNTRUSTED_TEXT_MAX))).toBe('x'.repeat(UNTRUSTED_TEXT_MAX));
    expect(untrustedText('x'.repeat(1_000_000))).toBe(`${'x'.repeat(UNTRUSTED_TEXT_MAX)}… [999,500 more characters cut]`);
    const pair = `${'x'.repeat(9)}😀tail`; // the emoji's high surrogate is the 10th code unit
    expect(untrustedText(pair, 10)).toBe(`${'x'.repeat(9)}… [6 more characters cut]`); // the pair and "tail"
  });
});

describe('report escaping', () => {
  it('terminalText leaves nothing a terminal obeys and cuts long lines', () => {
    const out = terminalText(`ok\tline\n\x1b]0;title\x07\x1b[2J\u202Eend\n${'y'.repeat(CONSOLE_LINE_MAX + 5)}`);
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    const lines = out.split('\n');
    expect(lines[0]).toBe('ok\tline');
    expect(lines[2]).toBe(`${'y'.repeat(CONSOLE_LINE_MAX)}… [5 more characters cut]`);
  });

  it('escapeHtml replaces controls HTML forbids, keeps tab and newline', () => {
    expect(escapeHtml('<b>\x00\x1b\t\n</b>')).toBe('&lt;b&gt;\uFFFD\uFFFD\t\n&lt;/b&gt;');
  });
});
