import { StartBulkBodySchema, type BulkPreview, type StartBulkBody } from '@drydock/core/bulk';
import type { Parameter } from '@drydock/core/manifest';
import { splitTags } from './host-form.ts';
import { addFieldError, hasFieldErrors, mergeFieldErrors, parseErrors, type FieldErrors } from './form-errors.ts';
import { checkParams, type RawFields } from './run-form.ts';

// Route fields of the bulk form are camelCase, which no parameter name can be, so both share one form.

export type SelectBy = 'hosts' | 'labels';

/** The selector and option fields as typed, to put back into the form when it comes back from the server. */
export interface BulkSettings {
  selectBy: SelectBy;
  hostIds: string[];
  hostEnvironment: string;
  hostGroup: string;
  hostTags: string;
  maxParallel: string;
  batchSize: string;
  canarySize: string;
  failureThreshold: string;
  timeoutSeconds: string;
  hostRetries: string;
  takeLocks: boolean;
}

export const DEFAULT_SETTINGS: BulkSettings = {
  selectBy: 'hosts',
  hostIds: [],
  hostEnvironment: '',
  hostGroup: '',
  hostTags: '',
  maxParallel: '50',
  batchSize: '',
  canarySize: '',
  failureThreshold: '',
  timeoutSeconds: '',
  hostRetries: '',
  takeLocks: false,
};

export type BulkTarget = { scriptId: string; version?: string } | { actionId: string };

/** What the bulk form's route action hands back: a preview to confirm, or why nothing was previewed or started. */
export interface BulkFormResult {
  intent: 'preview' | 'start';
  /** A banner above the form; null when the field errors say it all or the preview succeeded. */
  message: string | null;
  fields: FieldErrors;
  values: RawFields;
  settings: BulkSettings;
  preview: BulkPreview | null;
}

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

export function readSettings(form: FormData): BulkSettings {
  return {
    selectBy: text(form, 'selectBy') === 'labels' ? 'labels' : 'hosts',
    hostIds: form.getAll('hostIds').filter((v): v is string => typeof v === 'string' && v !== ''),
    hostEnvironment: text(form, 'hostEnvironment'),
    hostGroup: text(form, 'hostGroup'),
    hostTags: text(form, 'hostTags'),
    maxParallel: text(form, 'maxParallel'),
    batchSize: text(form, 'batchSize'),
    canarySize: text(form, 'canarySize'),
    failureThreshold: text(form, 'failureThreshold'),
    timeoutSeconds: text(form, 'timeoutSeconds'),
    hostRetries: text(form, 'hostRetries'),
    takeLocks: text(form, 'takeLocks') === 'true',
  };
}

/** A number field: empty is absent, digits a number; anything else goes to the schema as it is, to be refused in words. */
function wholeNumber(value: string): number | string | undefined {
  if (value === '') return undefined;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** "10" is ten hosts, "10%" a share of them; "10 %" is read as "10%". */
function countOrPercent(value: string): number | string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact === '') return undefined;
  return /^\d+$/.test(compact) ? Number(compact) : compact;
}

/** The request body the form describes, before the shared schema has looked at it. */
export function bulkBody(settings: BulkSettings, target: BulkTarget, params: Record<string, unknown>): Record<string, unknown> {
  const selector =
    settings.selectBy === 'hosts'
      ? { ...(settings.hostIds.length > 0 ? { hostIds: settings.hostIds } : {}) }
      : {
          ...(settings.hostEnvironment ? { environment: settings.hostEnvironment } : {}),
          ...(settings.hostGroup ? { group: settings.hostGroup } : {}),
          ...(settings.hostTags ? { tags: splitTags(settings.hostTags) } : {}),
        };
  const options: Record<string, unknown> = {
    maxParallel: wholeNumber(settings.maxParallel),
    batchSize: countOrPercent(settings.batchSize),
    canary: countOrPercent(settings.canarySize),
    failureThreshold: countOrPercent(settings.failureThreshold),
    timeoutSeconds: wholeNumber(settings.timeoutSeconds),
    retries: wholeNumber(settings.hostRetries),
    takeLocks: settings.takeLocks,
  };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return { ...target, selector, params, options };
}

const COUNT_OR_PERCENT = 'a number of hosts (1 or more), or a percentage from 1% to 100% such as "10%"';

/** Where each part of the body lives in the form, and what to say when the schema refuses it. */
const FIELD_OF: Record<string, { field: string; message?: string }> = {
  'selector.hostIds': { field: 'hostIds' },
  'selector.environment': { field: 'hostEnvironment', message: 'choose one of the environments offered' },
  'selector.group': { field: 'hostGroup', message: 'a group name of at most 100 characters' },
  'selector.tags': { field: 'hostTags', message: 'at most 20 tags, each at most 64 characters, separated by commas' },
  'options.maxParallel': { field: 'maxParallel', message: 'a whole number of hosts from 1 to 1000' },
  'options.batchSize': { field: 'batchSize', message: COUNT_OR_PERCENT },
  'options.canary': { field: 'canarySize', message: COUNT_OR_PERCENT },
  'options.failureThreshold': { field: 'failureThreshold', message: COUNT_OR_PERCENT },
  'options.timeoutSeconds': { field: 'timeoutSeconds', message: 'a whole number of seconds from 1 to 86400 (24 hours)' },
  'options.retries': { field: 'hostRetries', message: 'a whole number of retries from 0 to 10' },
  'options.takeLocks': { field: 'takeLocks' },
};

// The selector's "choose some hosts" rule, worded for the way of choosing the form shows.
const NO_HOSTS: Record<SelectBy, { field: string; message: string }> = {
  hosts: { field: 'hostIds', message: 'Tick at least one host, or choose hosts by environment, group or tags instead.' },
  labels: { field: 'hostLabels', message: 'Choose an environment, a group or tags: the hosts carrying all of them run it.' },
};

/** An error key from the shared schema or the API (`options.canary`, `params.count`, `count`) as the form field it belongs to. */
export function formField(key: string, selectBy: SelectBy): { field: string; message?: string } {
  if (key === 'selector' || (key === 'selector.hostIds' && selectBy === 'labels')) return NO_HOSTS[selectBy];
  const known = FIELD_OF[key] ?? FIELD_OF[key.split('.').slice(0, 2).join('.')];
  if (known) return known;
  if (key.startsWith('params.')) return { field: key.slice('params.'.length) };
  return { field: key };
}

/** The API's field errors moved onto the form's fields, in the form's words where it has better ones. */
export function fieldsFromApi(apiFields: Record<string, string[]>, selectBy: SelectBy): FieldErrors {
  const fields: FieldErrors = {};
  for (const [key, messages] of Object.entries(apiFields)) for (const m of messages) addFieldError(fields, formField(key, selectBy).field, m);
  return fields;
}

export interface BulkCheck {
  /** The body to send when nothing is wrong. */
  body: StartBulkBody | null;
  fields: FieldErrors;
  settings: BulkSettings;
}

/** Parameters with the manifest's validator, selector and options with StartBulkBodySchema: the checks the API makes. */
export function checkBulkForm(parameters: readonly Parameter[], form: FormData, target: BulkTarget): BulkCheck {
  const settings = readSettings(form);
  const { coerced, result } = checkParams(parameters, form);
  const parsed = StartBulkBodySchema.safeParse(bulkBody(settings, target, coerced));
  // The selector's own "choose some hosts" rule is worded for the way of choosing the form shows.
  const place = (path: string, issue: { code?: string }) => (path === 'selector.hostIds' && issue.code === 'custom' ? NO_HOSTS[settings.selectBy] : formField(path, settings.selectBy));
  const fields = mergeFieldErrors(
    result.ok ? {} : result.fields,
    parseErrors(parsed, { field: (path, issue) => place(path, issue).field, message: (issue) => place(issue.path.map(String).join('.'), issue).message }),
  );
  return { body: parsed.success && !hasFieldErrors(fields) ? parsed.data : null, fields, settings };
}
