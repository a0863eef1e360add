import type { ParamValue } from '../manifest.ts';

// Workflow-safe: pure, no Node built-ins. The grammar is read by hand, one pass, no regular expressions, so
// parsing takes time linear in the text whatever a user writes (see linear-pattern.ts for the same concern).

/**
 * The template grammar of job step values (ABNF, RFC 5234):
 *
 *     template   = *( text / expression )
 *     expression = "{{" *sp ( reference / literal ) *sp "}}"
 *     reference  = "params." name / "steps." step-id ".outputs." name
 *     literal    = "'" *( any character but "'" ) "'"      ; {{ '{{' }} writes a literal "{{"
 *     name       = lower *62( lower / digit / "_" )
 *     step-id    = segment *( "/" segment )                 ; "/" only in ids a library expansion makes
 *     segment    = lower *62( lower / digit / "_" / "-" )
 *     sp         = " " / %x09
 *
 * `text` is any character sequence without "{{"; a lone "}}" is text. A value that is one reference and nothing
 * else keeps the referenced value's type (a host list stays a list); any other template renders to text.
 */

export const MAX_TEMPLATE_LENGTH = 16 * 1024;
const MAX_NAME = 63;

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'output'; step: string; name: string };
export type TemplateRef = Exclude<TemplatePart, { kind: 'text' }>;

export interface Template {
  parts: TemplatePart[];
  /** One reference and nothing else: the rendered value keeps the referenced value's type. */
  whole: boolean;
}

export type TemplateParse = { ok: true; template: Template } | { ok: false; error: string };

const isLower = (c: number) => c >= 97 && c <= 122;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** True when `text` holds an expression at all; a value without "{{" is a literal. */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/** A name (`name` in the grammar) or a step id segment (`segment`) starting at `at`; returns its end, or -1. */
function scanName(text: string, at: number, segment: boolean): number {
  if (at >= text.length || !isLower(text.charCodeAt(at))) return -1;
  let end = at + 1;
  while (end < text.length && end - at <= MAX_NAME) {
    const c = text.charCodeAt(end);
    if (isLower(c) || isDigit(c) || c === 95 /* _ */ || (segment && c === 45) /* - */) end++;
    else break;
  }
  return end - at > MAX_NAME ? -1 : end;
}

function skipBlanks(text: string, at: number): number {
  while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
  return at;
}

/** The `reference` starting at `at`, or why there is none. */
function scanReference(text: string, at: number): { ref: TemplateRef; end: number } | { error: string } {
  const shape = 'write {{ params.<name> }} or {{ steps.<step id>.outputs.<name> }}';
  if (text.startsWith('params.', at)) {
    const end = scanName(text, at + 7, false);
    if (end === -1) return { error: `a parameter name follows "params." (lower_snake_case, starting with a letter): ${shape}` };
    return { ref: { kind: 'param', name: text.slice(at + 7, end) }, end };
  }
  if (text.startsWith('steps.', at)) {
    let end = scanName(text, at + 6, true);
    if (end === -1) return { error: `a step id follows "steps." (lower case letters, digits, "-" and "_", starting with a letter): ${shape}` };
    while (text[end] === '/') {
      const next = scanName(text, end + 1, true);
      if (next === -1) return { error: `"/" in a step id is followed by another part of the id: ${shape}` };
      end = next;
    }
    const step = text.slice(at + 6, end);
    if (!text.startsWith('.outputs.', end)) return { error: `after steps.${step} comes ".outputs.<name>": a step passes data forward through its outputs` };
    const nameEnd = scanName(text, end + 9, false);
    if (nameEnd === -1) return { error: `an output name follows "steps.${step}.outputs." (lower_snake_case, starting with a letter)` };
    return { ref: { kind: 'output', step, name: text.slice(end + 9, nameEnd) }, end: nameEnd };
  }
  let word = at;
  while (word < text.length && word - at < 40 && text[word] !== ' ' && text[word] !== '}' && text[word] !== '.') word++;
  const seen = text.slice(at, word);
  return { error: seen === '' ? `the expression is empty: ${shape}` : `"${seen}" is not something a template can refer to: ${shape}` };
}

/**
 * Parses a step value's template. One pass over the text, each character read a bounded number of times;
 * an error names the character position (from 1) and what to write instead.
 */
export function parseTemplate(text: string): TemplateParse {
  if (text.length > MAX_TEMPLATE_LENGTH) return { ok: false, error: `a template is at most ${MAX_TEMPLATE_LENGTH} characters; this one has ${text.length}` };
  const parts: TemplatePart[] = [];
  const pushText = (t: string) => {
    if (t === '') return;
    const last = parts.at(-1);
    if (last?.kind === 'text') last.text += t;
    else parts.push({ kind: 'text', text: t });
  };
  let at = 0;
  for (;;) {
    const open = text.indexOf('{{', at);
    if (open === -1) {
      pushText(text.slice(at));
      break;
    }
    pushText(text.slice(at, open));
    const where = `at character ${open + 1}`;
    let cursor = skipBlanks(text, open + 2);
    if (text[cursor] === "'") {
      const close = text.indexOf("'", cursor + 1);
      if (close === -1) return { ok: false, error: `${where}: the quoted text started here has no closing '` };
      pushText(text.slice(cursor + 1, close));
      cursor = close + 1;
    } else {
      const scanned = scanReference(text, cursor);
      if ('error' in scanned) return { ok: false, error: `${where}: ${scanned.error}` };
      parts.push(scanned.ref);
      cursor = scanned.end;
    }
    cursor = skipBlanks(text, cursor);
    if (!text.startsWith('}}', cursor)) {
      const found = cursor >= text.length ? 'the text ends' : `found "${text.slice(cursor, cursor + 10)}"`;
      return { ok: false, error: `${where}: the expression is closed with "}}", but ${found}; one expression holds one reference` };
    }
    at = cursor + 2;
  }
  const whole = parts.length === 1 && parts[0]!.kind !== 'text';
  return { ok: true, template: { parts, whole } };
}

export function refText(ref: TemplateRef): string {
  return ref.kind === 'param' ? `params.${ref.name}` : `steps.${ref.step}.outputs.${ref.name}`;
}

/** The canonical text of a template: parseTemplate(printTemplate(t)) gives back `t`. */
export function printTemplate(parts: readonly TemplatePart[]): string {
  let out = '';
  for (const part of parts) {
    if (part.kind !== 'text') {
      out += `{{ ${refText(part)} }}`;
      continue;
    }
    // A run of "{" that could open an expression (two or more, or one before the next expression) is quoted.
    const text = part.text;
    for (let i = 0; i < text.length; ) {
      let end = i;
      while (end < text.length && text[end] === '{') end++;
      if (end === i) {
        const next = text.indexOf('{', i);
        out += text.slice(i, next === -1 ? text.length : next);
        i = next === -1 ? text.length : next;
        continue;
      }
      const run = text.slice(i, end);
      out += run.length > 1 || end === text.length ? `{{ '${run}' }}` : run;
      i = end;
    }
  }
  return out;
}

/** Every reference in a template, in order. */
export function templateRefs(template: Template): TemplateRef[] {
  return template.parts.filter((p): p is TemplateRef => p.kind !== 'text');
}

/** What a template refers to while a job runs: the job's parameters and the outputs of steps that finished. */
export interface TemplateScope {
  params: Readonly<Record<string, ParamValue | undefined>>;
  /** Outputs by step id; a step absent here has not succeeded (or did not run). */
  steps: Readonly<Record<string, Readonly<Record<string, ParamValue>> | undefined>>;
}

/** A value a template cannot be rendered with: a reference without a value, or a list inside text. */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
}

function lookup(ref: TemplateRef, scope: TemplateScope): ParamValue {
  if (ref.kind === 'param') {
    const value = scope.params[ref.name];
    if (value === undefined) throw new TemplateRenderError(`{{ params.${ref.name} }} has no value: the job was started without ${ref.name}, and it has no default`);
    return value;
  }
  const outputs = scope.steps[ref.step];
  if (outputs === undefined) throw new TemplateRenderError(`{{ ${refText(ref)} }} has no value: step ${ref.step} has not succeeded in this run`);
  const value = outputs[ref.name];
  if (value === undefined) throw new TemplateRenderError(`{{ ${refText(ref)} }} has no value: step ${ref.step} did not write ${ref.name} to its DRYDOCK_OUTPUT file`);
  return value;
}

/** A value as text inside a larger text: lists have no text form here (validateJob refuses them before a run). */
export function valueText(value: ParamValue, ref: string): string {
  if (Array.isArray(value)) throw new TemplateRenderError(`{{ ${ref} }} is a list and cannot be part of a text: use it as the whole value`);
  return String(value);
}

/**
 * Renders a template to a value, as data: a whole reference gives the referenced value itself (typed), anything
 * else gives text. The result is a parameter value the step's own validation checks; it is never put into a
 * shell command line, so no quoting is done or needed.
 */
export function renderTemplate(template: Template, scope: TemplateScope): ParamValue {
  if (template.whole) return lookup(template.parts[0] as TemplateRef, scope);
  let out = '';
  for (const part of template.parts) out += part.kind === 'text' ? part.text : valueText(lookup(part, scope), refText(part));
  return out;
}

/** A value as a job step holds it: literal data, or a template string. */
export type StepValue = string | number | boolean | string[];

function parsed(text: string): Template {
  const result = parseTemplate(text);
  if (!result.ok) throw new TemplateRenderError(result.error);
  return result.template;
}

/** Renders one step value: strings as templates, list elements each to one text (or host), other literals as they are. */
export function renderValue(value: StepValue, scope: TemplateScope): ParamValue {
  if (typeof value === 'string') return isTemplate(value) ? renderTemplate(parsed(value), scope) : value;
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (!isTemplate(item)) return item;
      const rendered = renderTemplate(parsed(item), scope);
      return valueText(rendered, item);
    });
  }
  return value;
}

/**
 * Replaces references in a template: `params` by the values given for them (a step library's parameters,
 * filled by the job), output references by `mapRef`. Returns a step value: a whole reference replaced by a
 * non-text value keeps that value; otherwise the result is the template's text.
 */
export function substituteTemplate(template: Template, params: Readonly<Record<string, StepValue | undefined>>, mapRef: (ref: TemplateRef & { kind: 'output' }) => TemplateRef): StepValue {
  if (template.whole && template.parts[0]!.kind === 'param') {
    const given = params[template.parts[0]!.name];
    if (given !== undefined) return given;
  }
  const parts: TemplatePart[] = [];
  for (const part of template.parts) {
    if (part.kind === 'text') parts.push(part);
    else if (part.kind === 'output') parts.push(mapRef(part));
    else {
      const given = params[part.name];
      if (given === undefined) parts.push(part);
      else if (typeof given === 'string') parts.push(...(isTemplate(given) ? parsed(given).parts : [{ kind: 'text' as const, text: given }]));
      else if (Array.isArray(given)) throw new TemplateRenderError(`{{ params.${part.name} }} is a list and cannot be part of a text: use it as the whole value`);
      else parts.push({ kind: 'text', text: String(given) });
    }
  }
  const merged: TemplatePart[] = [];
  for (const part of parts) {
    const last = merged.at(-1);
    if (part.kind === 'text' && last?.kind === 'text') merged[merged.length - 1] = { kind: 'text', text: last.text + part.text };
    else if (part.kind !== 'text' || part.text !== '') merged.push(part);
  }
  return printTemplate(merged);
}
