import { coerceFormValues, validateParams, type Parameter, type ParamsResult } from '@drydock/core/manifest';

export type FieldErrors = Record<string, string[]>;

/** The form's raw strings for each declared parameter; an unchecked checkbox is simply absent. */
export function readParamFields(parameters: readonly Parameter[], form: FormData): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const p of parameters) {
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
