import { ManifestSchema, PARAMETER_TYPES } from '@drydock/core/manifest';
import { parseErrors, type FieldErrors } from './form-errors.ts';

export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** A manifest as the editor holds it: what the API stored, or what the person just submitted (raw where it did not parse). */
export type ManifestDraft = Record<string, unknown>;

/** What a new action's form starts from. */
export const BLANK_ACTION: ManifestDraft = { runner: 'agent', success_criteria: { exit_codes: [0] }, parameters: [] };

/** The inputs each parameter type has beyond name, type, title, description and required; names follow the manifest keys. */
export const TYPE_FIELDS: Record<ParameterType, readonly string[]> = {
  string: ['default', 'pattern', 'min_length', 'max_length'],
  multiline: ['default', 'pattern', 'min_length', 'max_length'],
  secret: ['min_length'],
  integer: ['default', 'min', 'max'],
  number: ['default', 'min', 'max'],
  boolean: ['default'],
  enum: ['options', 'default'],
  host: ['default'],
  host_list: ['default', 'min', 'max'],
  date: ['default', 'min', 'max'],
};

export const COMMON_PARAMETER_FIELDS = ['name', 'type', 'title', 'description', 'required'] as const;

/** Every top-level input of the editor, named by its path in the manifest (and so in the API's field errors). */
export const ACTION_FIELDS = [
  'id',
  'name',
  'description',
  'category',
  'tags',
  'command_template',
  'runner',
  'runner_image',
  'timeout',
  'retries',
  'retry_delay',
  'requires_lock',
  'success_criteria.exit_codes',
  'success_criteria.output_contains',
  'success_criteria.output_not_contains',
  'success_criteria.max_execution_time',
  'host_tags',
  'parameters',
] as const;

/** Manifest keys the editor has inputs for; anything else a stored manifest holds (capture, …) rides along untouched. */
const EDITED_KEYS = new Set(ACTION_FIELDS.map((f) => f.split('.')[0]!));

export function preservedFields(draft: ManifestDraft): ManifestDraft {
  return Object.fromEntries(Object.entries(draft).filter(([key]) => !EDITED_KEYS.has(key)));
}

function readPreserved(form: FormData): ManifestDraft {
  try {
    const parsed: unknown = JSON.parse(String(form.get('_preserved') ?? '{}'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? preservedFields(parsed as ManifestDraft) : {};
  } catch {
    return {};
  }
}

export function isParameterType(value: unknown): value is ParameterType {
  return typeof value === 'string' && (PARAMETER_TYPES as readonly string[]).includes(value);
}

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** A number when the text is one; the text itself otherwise, so the schema names the mistake and the form shows what was typed. */
function numeric(raw: string): number | string | undefined {
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

function list(raw: string, separator: RegExp = /,/): string[] {
  return raw
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

function set(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) target[key] = value;
}

function parameterFromForm(form: FormData, prefix: string): Record<string, unknown> {
  const type = text(form, `${prefix}.type`);
  const p: Record<string, unknown> = { name: text(form, `${prefix}.name`), type };
  set(p, 'title', text(form, `${prefix}.title`));
  set(p, 'description', text(form, `${prefix}.description`));
  if (form.get(`${prefix}.required`) === 'true') p.required = true;
  if (!isParameterType(type)) return p;
  for (const field of TYPE_FIELDS[type]) {
    const raw = text(form, `${prefix}.${field}`);
    if (field === 'options') set(p, field, list(raw));
    else if (field === 'pattern') set(p, field, raw);
    else if (field === 'min_length' || field === 'max_length') set(p, field, numeric(raw));
    else if (field === 'min' || field === 'max') set(p, field, type === 'date' ? raw : numeric(raw));
    else if (type === 'integer' || type === 'number') set(p, field, numeric(raw));
    else if (type === 'boolean') set(p, field, raw === '' ? undefined : raw === 'true');
    else if (type === 'host_list') set(p, field, list(raw));
    else set(p, field, raw);
  }
  return p;
}

/** The editor's fields as the manifest the API takes: snake_case, lists split, numbers as numbers, empty fields left out. */
export function manifestFromForm(form: FormData): ManifestDraft {
  const m: ManifestDraft = { ...readPreserved(form), id: text(form, 'id'), name: text(form, 'name') };
  set(m, 'description', text(form, 'description'));
  set(m, 'category', text(form, 'category'));
  set(m, 'tags', list(text(form, 'tags')));
  set(m, 'command_template', text(form, 'command_template'));
  set(m, 'runner', text(form, 'runner'));
  set(m, 'runner_image', text(form, 'runner_image'));
  for (const key of ['timeout', 'retries', 'retry_delay']) set(m, key, numeric(text(form, key)));
  if (form.get('requires_lock') === 'true') m.requires_lock = true;

  const criteria: Record<string, unknown> = {};
  set(criteria, 'exit_codes', list(text(form, 'success_criteria.exit_codes')).map((c) => numeric(c)));
  set(criteria, 'output_contains', list(text(form, 'success_criteria.output_contains'), /\r?\n/));
  set(criteria, 'output_not_contains', list(text(form, 'success_criteria.output_not_contains'), /\r?\n/));
  set(criteria, 'max_execution_time', numeric(text(form, 'success_criteria.max_execution_time')));
  if (Object.keys(criteria).length > 0) m.success_criteria = criteria;

  set(m, 'host_tags', list(text(form, 'host_tags')));

  const rows = new Set<number>();
  for (const key of form.keys()) {
    const match = /^parameters\.(\d+)\.type$/.exec(key);
    if (match) rows.add(Number(match[1]));
  }
  m.parameters = [...rows].sort((a, b) => a - b).map((i) => parameterFromForm(form, `parameters.${i}`));
  return m;
}

/** The same manifest schema the API applies; problems keyed by path (`parameters.0.name`), as the API reports them. */
export function checkManifest(manifest: ManifestDraft): FieldErrors {
  // An action always runs a command template; "script or command_template" means the template is missing.
  const noCommand = (path: string) => path === 'script' && manifest.command_template === undefined;
  return parseErrors(ManifestSchema.safeParse(manifest), {
    field: (path) => (noCommand(path) ? 'command_template' : path || '_'),
    message: (issue, field) => {
      if (field === 'command_template' && noCommand(issue.path.map(String).join('.'))) return 'Write the command this action runs';
      return issue.code === 'unrecognized_keys' && 'keys' in issue ? `not a manifest field: ${(issue.keys as string[]).join(', ')}` : undefined;
    },
  });
}

/** Messages for one input: its own path and any list items under it (`tags.2` belongs to `tags`). */
export function errorsAt(fields: FieldErrors, name: string): string[] {
  const out: string[] = [];
  for (const [key, messages] of Object.entries(fields)) {
    if (key === name || (key.startsWith(`${name}.`) && /^(\.\d+)+$/.test(key.slice(name.length)))) out.push(...messages);
  }
  return out;
}

/** Every input name the editor renders for these parameter types: errors under any other path are listed at the top. */
export function renderedNames(types: readonly ParameterType[]): string[] {
  const names: string[] = [...ACTION_FIELDS];
  types.forEach((type, i) => {
    names.push(`parameters.${i}`);
    for (const field of [...COMMON_PARAMETER_FIELDS, ...TYPE_FIELDS[type]]) names.push(`parameters.${i}.${field}`);
  });
  return names;
}

/** Whether an error key shows beside one of these inputs (its own, or a list item's under it). */
export function placedAt(names: readonly string[]): (key: string) => boolean {
  return (key) => names.some((name) => errorsAt({ [key]: [''] }, name).length > 0);
}

/** A stored or submitted value as input text: lists joined, numbers and booleans spelled out. */
export function fieldText(value: unknown, separator = ', '): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => String(v)).join(separator);
  return String(value);
}

export function draftPath(draft: ManifestDraft, path: string): unknown {
  let at: unknown = draft;
  for (const key of path.split('.')) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}
