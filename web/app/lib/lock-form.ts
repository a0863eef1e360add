import { LockAcquireBodySchema } from '@drydock/core/host-lock-schemas';
import { addFieldError, parseErrors, topLevelField, type FieldErrors } from './form-errors.ts';

// The take-a-lock form, read the same way in the browser and on the server (a request may come without JS).

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

/** The body of POST /locks/:hostId from the form; minutes in the form, seconds in the API. */
export function acquireBody(form: FormData): Record<string, unknown> {
  const minutes = Number(text(form, 'ttlMinutes'));
  const priority = text(form, 'priority');
  return {
    type: text(form, 'type') || 'execution',
    reason: text(form, 'reason'),
    ttlSeconds: Number.isFinite(minutes) && text(form, 'ttlMinutes') !== '' ? Math.round(minutes * 60) : undefined,
    priority: priority === '' ? undefined : Number(priority),
    wait: form.get('wait') === 'on',
  };
}

/** The API's own schema, problems keyed by the form's fields, and the host the URL of the request needs. */
export function checkAcquire(form: FormData): FieldErrors {
  const fields = parseErrors(LockAcquireBodySchema.safeParse(acquireBody(form)), {
    field: (path) => (topLevelField(path) === 'ttlSeconds' ? 'ttlMinutes' : topLevelField(path)),
    message: (_issue, field) => (field === 'ttlMinutes' ? 'a duration from 1 minute to 7 days, in minutes' : undefined),
  });
  return text(form, 'hostId') ? fields : addFieldError(fields, 'hostId', 'choose a host');
}
