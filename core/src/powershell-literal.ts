/**
 * PowerShell's tokenizer takes these four characters as a single quote, not only the ASCII one
 * (CharExtensions.IsSingleQuote): a value holding U+2019 would otherwise end a '…' literal early.
 */
const SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;
/** Printable ASCII only: a line break in a literal would not survive a copy that converts line endings. */
const NOT_PLAIN = /[^\x20-\x7E]/;

/** Thrown for a value no PowerShell literal can carry, such as one with a NUL character. */
export class PowerShellLiteralError extends Error {}

function refuseNul(value: string, what: string): void {
  if (value.includes('\0')) throw new PowerShellLiteralError(`${what} contains a NUL character, which a PowerShell script cannot carry; remove it`);
}

/**
 * `value` as a PowerShell single-quoted literal: nothing inside is expanded (`$()`, backticks, `"`),
 * newlines are kept, and every quote character is doubled, which PowerShell reads back as that one character.
 */
export function psLiteral(value: string, what = 'a value'): string {
  refuseNul(value, what);
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

/**
 * `value` as a PowerShell expression that stays plain ASCII: a single-quoted literal, or for text with other
 * characters (line breaks, tabs, anything past ASCII), literals joined with `[char]` codes. Windows PowerShell 5.1 reads a script without a byte order
 * mark in the ANSI code page, where the UTF-8 bytes of, say, "ё" end in 0x91, which it would read as a quote.
 */
export function psString(value: string, what = 'a value'): string {
  refuseNul(value, what);
  if (!NOT_PLAIN.test(value)) return psLiteral(value, what);
  const parts: string[] = [];
  let run = '';
  for (const unit of value.split('')) {
    if (NOT_PLAIN.test(unit)) {
      if (run !== '') parts.push(psLiteral(run, what));
      run = '';
      parts.push(`[char]0x${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    } else {
      run += unit;
    }
  }
  if (run !== '') parts.push(psLiteral(run, what));
  // '' + first: a leading [char] must not make PowerShell add numbers instead of joining text.
  return `(${["''", ...parts].join(' + ')})`;
}

/**
 * `text` as a single-quoted here-string (`@'` … `'@`): kept verbatim, which suits source code. A line that
 * starts with a quote character and `@` would end it early, so such text is refused.
 */
export function psHereString(text: string, what = 'the text'): string {
  refuseNul(text, what);
  const bad = text.split(/\r?\n/).findIndex((line) => /^['\u2018\u2019\u201A\u201B]@/.test(line));
  if (bad !== -1) throw new PowerShellLiteralError(`line ${bad + 1} of ${what} starts with a quote and @, which would end a PowerShell here-string; reword it`);
  return `@'\n${text.replace(/\r?\n$/, '')}\n'@`;
}
