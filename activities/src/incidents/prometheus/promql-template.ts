import { z } from 'zod';
import { SERIES_MEASURES } from '@drydock/core/incidents';
import { QueryTemplateError } from './prometheus-error.ts';

// Query templates per service, with `{{service}}`, `{{host}}` and `{{environment}}` filled in as data. A placeholder may
// only stand inside a quoted PromQL string, where its value is escaped by PromQL's string rules (and, after `=~` or
// `!~`, by RE2's), so no value, however hostile, can end the string and change the query around it.

export const QUERY_PLACEHOLDERS = ['service', 'host', 'environment'] as const;
export type QueryPlaceholder = (typeof QUERY_PLACEHOLDERS)[number];
export type QueryValues = Partial<Record<QueryPlaceholder, string>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;

type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; name: QueryPlaceholder; quote: '"' | "'"; regex: boolean };

/** The template cut into PromQL text and placeholders, each with the string it stands in; problems instead when it cannot be filled safely. */
function cut(template: string): { pieces: Piece[]; problems: string[] } {
  const pieces: Piece[] = [];
  const problems: string[] = [];
  let text = '';
  let quote: '"' | "'" | '`' | undefined;
  let regex = false;
  const flush = () => {
    if (text !== '') pieces.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < template.length; ) {
    const ch = template[i]!;
    PLACEHOLDER.lastIndex = i;
    const match = ch === '{' ? PLACEHOLDER.exec(template) : null;
    if (match) {
      const name = match[1]!;
      if (!(QUERY_PLACEHOLDERS as readonly string[]).includes(name)) problems.push(`{{${name}}} is not a placeholder; use ${QUERY_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
      else if (quote === undefined) problems.push(`{{${name}}} stands outside a string; put it in double quotes, as in instance="{{${name}}}"`);
      else if (quote === '`') problems.push(`{{${name}}} stands in a raw \`string\`, which cannot escape a value; use double quotes`);
      else {
        flush();
        pieces.push({ kind: 'placeholder', name: name as QueryPlaceholder, quote, regex });
      }
      i += match[0].length;
      continue;
    }
    text += ch;
    i++;
    if (quote === undefined) {
      if (ch === '"' || ch === "'" || ch === '`') {
        quote = ch;
        regex = /[=!]~\s*$/.test(text.slice(0, -1));
      } else if (ch === '#') {
        // A comment runs to the end of the line; a placeholder there would do nothing.
        const end = template.indexOf('\n', i);
        text += end === -1 ? template.slice(i) : template.slice(i, end);
        i = end === -1 ? template.length : end;
      }
    } else if (ch === '\\' && quote !== '`' && i < template.length) {
      text += template[i];
      i++;
    } else if (ch === quote) {
      quote = undefined;
    }
  }
  if (quote !== undefined) problems.push(`a ${quote === '`' ? 'raw string' : 'string'} opened with ${quote} is never closed`);
  flush();
  return { pieces, problems };
}

/** What is wrong with a template, in words; empty when it can be filled. */
export function checkQueryTemplate(template: string): string[] {
  return cut(template).problems;
}

/** RE2's metacharacters, so a value matches itself and nothing more. */
const escapeRegex = (v: string) => v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

/** PromQL's string escapes (Go's): the quote, the backslash and control characters; everything else as it is. */
function escapeString(v: string, quote: '"' | "'"): string {
  let out = '';
  for (const ch of v) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** The query with every placeholder replaced by its value, escaped for the string it stands in. */
export function fillQueryTemplate(template: string, values: QueryValues): string {
  const { pieces, problems } = cut(template);
  if (problems.length > 0) throw new QueryTemplateError(`the query template cannot be filled safely: ${problems.join('; ')}`);
  return pieces
    .map((piece) => {
      if (piece.kind === 'text') return piece.text;
      const value = values[piece.name];
      if (value === undefined) throw new QueryTemplateError(`the query template needs {{${piece.name}}}, and the incident has none`);
      if (!value.isWellFormed()) throw new QueryTemplateError(`the ${piece.name} "${value.toWellFormed()}" holds a lone surrogate, which PromQL cannot carry`);
      return escapeString(piece.regex ? escapeRegex(value) : value, piece.quote);
    })
    .join('');
}

export const QueryTemplateSchema = z.strictObject({
  /** What the query shows, for the evidence list: "5xx rate", "disk used". */
  name: z.string().min(1).max(100),
  query: z
    .string()
    .min(1)
    .max(4_000)
    .superRefine((q, ctx) => {
      for (const problem of checkQueryTemplate(q)) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** What the series measure, so the rule engine can read them (disk_used_percent: 0 to 100). */
  measure: z.enum(SERIES_MEASURES).default('other'),
});
export type QueryTemplate = z.infer<typeof QueryTemplateSchema>;

/** Templates per service, by service name; `*` applies to every service. */
export const ServiceQueryTemplatesSchema = z.record(z.string().min(1).max(200), z.array(QueryTemplateSchema).max(50));
export type ServiceQueryTemplates = z.infer<typeof ServiceQueryTemplatesSchema>;

/** The templates that apply to a service: its own, then those for every service. */
export function templatesFor(templates: ServiceQueryTemplates, service: string): QueryTemplate[] {
  return [...(templates[service] ?? []), ...(service === '*' ? [] : (templates['*'] ?? []))];
}
