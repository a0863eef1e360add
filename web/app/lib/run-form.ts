import { coerceFormValues, validateParams, type Parameter, type ParamsResult } from '@drydock/core/manifest';
import { mergeFieldErrors, type FieldErrors } from './form-errors.ts';

export type RawFields = Record<string, string | string[] | undefined>;

/** What a route action hands back when a run could not start: the form comes back as it was sent, secrets aside. */
export interface StartRunFailure {
  intent: 'run';
  message: string;
  fields: FieldErrors;
  values: RawFields;
  hostId: string;
}

/** The form's raw strings for each declared parameter; an unchecked checkbox is simply absent, a host list is every ticked host. */
export function readParamFields(parameters: readonly Parameter[], form: FormData): RawFields {
  const raw: RawFields = {};
  for (const p of parameters) {
    if (p.type === 'host_list') {
      raw[p.name] = form.getAll(p.name).filter((v): v is string => typeof v === 'string');
      continue;
    }
    const value = form.get(p.name);
    raw[p.name] = typeof value === 'string' ? value : undefined;
  }
  return raw;
}

/** Coerce then validate: the same two steps the API runs, so the browser, the action and the API agree. */
export function checkParams(parameters: readonly Parameter[], form: FormData): { coerced: Record<string, unknown>; result: ParamsResult } {
  const coerced = coerceFormValues(parameters, readParamFields(parameters, form));
  return { coerced, result: validateParams(parameters, coerced) };
}

export function checkHost(form: FormData): FieldErrors {
  const hostId = form.get('hostId');
  return typeof hostId === 'string' && hostId !== '' ? {} : { hostId: ['Choose a host to run on'] };
}

/** The checks the route action and the API make: a host, and every parameter by the manifest's validator. */
export function checkRunForm(parameters: readonly Parameter[], form: FormData): FieldErrors {
  const { result } = checkParams(parameters, form);
  return mergeFieldErrors(checkHost(form), result.ok ? {} : result.fields);
}
