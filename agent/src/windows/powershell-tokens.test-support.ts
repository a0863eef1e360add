/**
 * A reader for the PowerShell the install script is made of, following the tokenizer of PowerShell 5.1
 * (System.Management.Automation.Language.Tokenizer): no PowerShell runs here, so the tests read the script as it
 * would. It knows comments, single- and double-quoted strings, single-quoted here-strings, `[char]0x…` and `+`.
 */

const SINGLE = /['\u2018\u2019\u201A\u201B]/;
const DOUBLE = /["\u201C\u201D\u201E]/;

export interface Segment {
  kind: 'code' | 'comment' | 'single' | 'double' | 'here';
  /** For a string, its value as PowerShell reads it; otherwise the text. */
  text: string;
  /** Offset of the segment's first character in the script. */
  at: number;
}

export function segments(script: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let codeAt = 0;
  const flush = (i: number) => {
    if (code !== '') out.push({ kind: 'code', text: code, at: codeAt });
    code = '';
    codeAt = i;
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (c === '#') {
      flush(i);
      const end = script.indexOf('\n', i);
      const stop = end === -1 ? script.length : end;
      out.push({ kind: 'comment', text: script.slice(i, stop), at: i });
      i = stop;
      codeAt = i;
    } else if (c === '@' && SINGLE.test(script[i + 1] ?? '') && /^\r?\n/.test(script.slice(i + 2))) {
      flush(i);
      const start = script.indexOf('\n', i) + 1;
      const close = /\r?\n['\u2018\u2019\u201A\u201B]@/g;
      close.lastIndex = start - 1;
      const m = close.exec(script);
      if (!m) throw new Error(`unterminated here-string at ${i}`);
      out.push({ kind: 'here', text: script.slice(start, m.index), at: i });
      i = m.index + m[0].length;
      codeAt = i;
    } else if (SINGLE.test(c)) {
      flush(i);
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= script.length) throw new Error(`unterminated single-quoted string at ${i}`);
        let ch = script[j]!;
        if (SINGLE.test(ch)) {
          // Tokenizer.ScanStringLiteral: a quote ends the string unless another quote follows; then the second is kept.
          if (!SINGLE.test(script[j + 1] ?? '')) break;
          j++;
          ch = script[j]!;
        }
        value += ch;
        j++;
      }
      out.push({ kind: 'single', text: value, at: i });
      i = j + 1;
      codeAt = i;
    } else if (DOUBLE.test(c)) {
      flush(i);
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= script.length) throw new Error(`unterminated double-quoted string at ${i}`);
        const ch = script[j]!;
        if (ch === '`') {
          value += ch + (script[j + 1] ?? '');
          j += 2;
          continue;
        }
        if (DOUBLE.test(ch)) {
          if (!DOUBLE.test(script[j + 1] ?? '')) break;
          j++;
        }
        value += script[j]!;
        j++;
      }
      out.push({ kind: 'double', text: value, at: i });
      i = j + 1;
      codeAt = i;
    } else {
      code += c;
      i++;
    }
  }
  flush(i);
  return out;
}

/** The value of an expression psString renders: a literal, or `('' + 'a' + [char]0x0451 + …)`, operands joined by `+` only. */
export function evaluateString(expression: string): string {
  const tokens: string[] = [];
  const operands: string[] = [];
  for (const part of segments(expression.trim())) {
    if (part.kind === 'single') {
      tokens.push('operand');
      operands.push(part.text);
    } else if (part.kind === 'code') {
      for (const piece of part.text.split(/(\+|\(|\))/).map((p) => p.trim()).filter(Boolean)) {
        const m = /^\[char\]0x([0-9A-F]{4})$/.exec(piece);
        if (m) {
          tokens.push('operand');
          operands.push(String.fromCharCode(parseInt(m[1]!, 16)));
        } else if (['+', '(', ')'].includes(piece)) tokens.push(piece);
        else throw new Error(`not a literal, a [char] code or +: ${piece}`);
      }
    } else throw new Error(`unexpected ${part.kind} in a rendered value: ${part.text}`);
  }
  const shape = tokens.join(' ');
  if (!/^(operand|\( operand( \+ operand)* \))$/.test(shape)) throw new Error(`not a single string expression: ${shape}`);
  return operands.join('');
}
