import { RepositoryBodySchema, RepositoryPatchSchema } from '@drydock/core/api-schemas';
import { parseErrors, topLevelField, type FieldErrors } from './form-errors.ts';

const FIELDS = ['id', 'name', 'url', 'branch', 'path', 'provider', 'credentialId', 'syncIntervalSeconds'] as const;

/** A repository form as it was sent, for showing it again; the webhook secret is never among them. */
export type RepositoryFormValues = Partial<Record<(typeof FIELDS)[number], string>>;

export interface RepositoryFormFailure {
  intent: 'save';
  message: string;
  fields: FieldErrors;
  values: RepositoryFormValues;
}

export interface SyncOutcome {
  intent: 'sync';
  repositoryId: string;
  ok: boolean;
  message: string;
}

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

export function repositoryFormValues(form: FormData): RepositoryFormValues {
  const out: RepositoryFormValues = {};
  for (const key of FIELDS) if (form.has(key)) out[key] = field(form, key);
  return out;
}

/** A whole number when the text is one; the text itself otherwise, so the schema names the mistake. */
function seconds(raw: string): number | string | undefined {
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

/** The body of POST /repositories: empty fields left to the API's defaults. */
export function createBody(form: FormData): Record<string, unknown> {
  const body: Record<string, unknown> = { id: field(form, 'id'), name: field(form, 'name'), url: field(form, 'url') };
  for (const key of ['branch', 'path', 'provider', 'credentialId'] as const) if (field(form, key) !== '') body[key] = field(form, key);
  const secret = String(form.get('webhookSecret') ?? '');
  if (secret !== '') body.webhookSecret = secret;
  const interval = seconds(field(form, 'syncIntervalSeconds'));
  if (interval !== undefined) body.syncIntervalSeconds = interval;
  return body;
}

/** The body of PATCH /repositories/:id from the fields the form had: no credential clears it, a blank secret keeps the stored one unless asked to clear it. */
export function patchBody(form: FormData): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of ['name', 'url', 'branch', 'path', 'provider'] as const) if (form.has(key)) body[key] = field(form, key);
  if (form.has('credentialId')) body.credentialId = field(form, 'credentialId') || null;
  const secret = String(form.get('webhookSecret') ?? '');
  if (form.get('clearWebhookSecret') === 'true') body.webhookSecret = null;
  else if (secret !== '') body.webhookSecret = secret;
  const interval = seconds(field(form, 'syncIntervalSeconds'));
  if (interval !== undefined) body.syncIntervalSeconds = interval;
  return body;
}

/** The API's own body schema, problems keyed by field; the browser and the route action both check with it. */
export function checkRepositoryBody(body: Record<string, unknown>, mode: 'new' | 'edit'): FieldErrors {
  return parseErrors((mode === 'new' ? RepositoryBodySchema : RepositoryPatchSchema).safeParse(body), { field: topLevelField });
}
