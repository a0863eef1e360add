/**
 * `text` cut to at most `max` UTF-16 code units with an ellipsis, never inside a surrogate pair or an
 * HTML entity (`&amp;`) that `escape` produced. Limits of chat services count characters after escaping.
 */
export function fitText(text: string, max: number, escape: (raw: string) => string = (raw) => raw): string {
  const escaped = escape(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of text) {
    const next = escape(ch);
    if (out.length + next.length > max - 1) break;
    out += next;
  }
  return `${out}…`;
}
