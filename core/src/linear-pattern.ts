import { RE2JS } from 're2js';

// Browser-safe: the API, the workers, the agent and the web form check patterns with this one engine.

/** Longer patterns are refused: compiling is linear too, but nobody needs a kilobyte of regex to check a form field. */
export const MAX_PATTERN_LENGTH = 1_000;

export type LinearPattern = { ok: true; test: (value: string) => boolean } | { ok: false; reason: string };

const UNSUPPORTED = {
  backreference: 'pattern uses a backreference, which cannot be checked in linear time; match the repeated part explicitly or check it in the script',
  lookaround: 'pattern uses a lookahead or lookbehind, which cannot be checked in linear time; write the condition without (?=, (?!, (?<= or (?<!, or check it in the script',
} as const;

/** The construct a backtracking engine needs and RE2 refuses, found before translation (which would drop `\k<name>` silently). */
function unsupportedConstruct(pattern: string): keyof typeof UNSUPPORTED | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || (next === 'k' && pattern[i + 2] === '<'))) return 'backreference';
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal in JavaScript's syntax.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (ch === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') return 'lookaround';
    }
  }
  return null;
}

/**
 * A manifest's pattern, compiled by RE2 (re2js): matching takes time linear in the value, whatever the pattern,
 * so `^(a+)+$` against a long value cannot stall the API, a worker or a browser tab. JavaScript's own syntax
 * (`\uXXXX`, `(?<name>…)`) is translated; what only a backtracking engine can do is refused with the reason.
 * `test` is unanchored, as `RegExp.prototype.test` is: anchor with `^…$` to match the whole value.
 */
export function linearPattern(pattern: string): LinearPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, reason: `pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported) return { ok: false, reason: UNSUPPORTED[unsupported] };
  try {
    const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    return { ok: true, test: (value) => compiled.test(value) };
  } catch (err) {
    const said = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return { ok: false, reason: `pattern is not a regular expression Drydock can check: ${said}` };
  }
}
