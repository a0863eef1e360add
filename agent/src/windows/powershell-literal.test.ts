import { describe, expect, test } from 'vitest';
import { PowerShellLiteralError, psHereString, psLiteral, psString } from './powershell-literal.ts';
import { evaluateString, segments } from './powershell-tokens.test-support.ts';

const HOSTILE = [
  "it's",
  "'; Remove-Item -Recurse C:\\ ; '",
  '$(Invoke-Expression calc)',
  '$env:USERNAME ${x} @(1) @{a=1}',
  'back`tick `n `$ `0',
  'line one\nline two\r\nline three',
  'smart \u2018quotes\u2019 here',
  '\u2019; Stop-Computer; \u2018',
  'low \u201A and reversed \u201B',
  'double "quotes" and \u201Csmart\u201D \u201E ones',
  '\u2019\u2019\u2019',
  "''''",
  'tab\there',
  'emoji \u{1F680} and \u0451 (whose UTF-8 ends in 0x91)',
  '',
  '#not a comment <# nor this #>',
  "@'\n'@ here-string terminator",
];

describe('psLiteral', () => {
  test.each(HOSTILE)('%j reads back as itself, as one single-quoted string', (value) => {
    const literal = psLiteral(value);
    const parts = segments(literal);
    expect(parts).toEqual([{ kind: 'single', text: value, at: 0 }]);
  });

  test('doubles every quote character PowerShell ends a string at, each as itself', () => {
    expect(psLiteral("a'b")).toBe("'a''b'");
    expect(psLiteral('a\u2018b\u2019c\u201Ad\u201Be')).toBe("'a\u2018\u2018b\u2019\u2019c\u201A\u201Ad\u201B\u201Be'");
    expect(psLiteral('$(x) `y "z"')).toBe('\'$(x) `y "z"\'');
  });

  test('refuses a NUL character, saying what held it', () => {
    expect(() => psLiteral('a\0b', 'tag')).toThrow(PowerShellLiteralError);
    expect(() => psLiteral('a\0b', 'tag')).toThrow('tag contains a NUL character');
  });
});

describe('psString', () => {
  test.each(HOSTILE)('%j reads back as itself, from plain ASCII only', (value) => {
    const expression = psString(value);
    expect(expression).toMatch(/^[\x20-\x7E]*$/);
    expect(evaluateString(expression)).toBe(value);
  });

  test('is a plain literal when the value is printable ASCII', () => {
    expect(psString("it's")).toBe("'it''s'");
  });

  test('gives other characters as [char] codes, after an empty string so PowerShell joins text', () => {
    expect(psString('\u2019x')).toBe("('' + [char]0x2019 + 'x')");
    expect(psString('a\nb')).toBe("('' + 'a' + [char]0x000A + 'b')");
  });
});

describe('psHereString', () => {
  test('keeps text verbatim, quotes and $() included', () => {
    const text = "var s = \"$(x)\"; // it's 'quoted'\n  '@ indented is fine\n";
    expect(segments(psHereString(text))).toEqual([{ kind: 'here', text: text.replace(/\n$/, ''), at: 0 }]);
  });

  test.each(["'@", '\u2019@', '\u2018@ too'])('refuses text with a line that starts with %j, which would end it', (line) => {
    expect(() => psHereString(`first\n${line}\nlast`, 'service-host.cs')).toThrow("line 2 of service-host.cs starts with a quote and @");
  });
});
