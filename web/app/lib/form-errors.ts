// One mapping from a schema's issues to the form's fields, shared by every form: the browser and the route
// action run the same schema (the API's own) and show its problems beside the inputs they concern.

/** Messages per form field; `_` holds what belongs to no field. */
export type FieldErrors = Record<string, string[]>;

/** The part of a zod issue the mapping reads; core's schemas produce these, and so does a hand-written check. */
export interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
}

export interface IssueMapping<I extends SchemaIssue = SchemaIssue> {
  /** The field an issue belongs to, from its dotted path (`options.canary`, `parameters.0.name`); the path itself by default. */
  field?: (path: string, issue: I) => string;
  /** The message to show; the schema's own when this gives undefined. */
  message?: (issue: I, field: string) => string | undefined;
}

/** Issues under a list or object belong to its first key: `tags.2` is a problem of the `tags` input. */
export const topLevelField = (path: string) => path.split('.')[0] || '_';

/** Adds one message to a field, once. */
export function addFieldError(fields: FieldErrors, field: string, message: string): FieldErrors {
  const list = (fields[field] ??= []);
  if (!list.includes(message)) list.push(message);
  return fields;
}

/** A schema's issues as field errors, each field's messages in the schema's order and without repeats. */
export function fieldErrors<I extends SchemaIssue>(issues: readonly I[], mapping: IssueMapping<I> = {}): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    const path = issue.path.map(String).join('.');
    const field = mapping.field ? mapping.field(path, issue) : path || '_';
    addFieldError(fields, field, mapping.message?.(issue, field) ?? issue.message);
  }
  return fields;
}

/** The outcome of a `safeParse`, mapped: no errors when it succeeded. */
export function parseErrors<I extends SchemaIssue>(parsed: { success: true } | { success: false; error: { issues: readonly I[] } }, mapping?: IssueMapping<I>): FieldErrors {
  return parsed.success ? {} : fieldErrors(parsed.error.issues, mapping);
}

export function hasFieldErrors(fields: FieldErrors): boolean {
  return Object.values(fields).some((messages) => messages.length > 0);
}

/** Several checks' errors together; a field named by more than one keeps every message once. */
export function mergeFieldErrors(...all: FieldErrors[]): FieldErrors {
  const out: FieldErrors = {};
  for (const fields of all) for (const [field, messages] of Object.entries(fields)) for (const m of messages) addFieldError(out, field, m);
  return out;
}

/** The errors no input of the form shows: listed above the form so that none goes unseen. */
export function unplacedErrors(fields: FieldErrors, placed: (field: string) => boolean): [string, string[]][] {
  return Object.entries(fields).filter(([field, messages]) => messages.length > 0 && !placed(field));
}
