import { LockAcquireBodySchema } from '@drydock/core/host-lock-schemas';
import type { FieldErrors } from './run-form.ts';

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

/** The API's own schema, problems keyed by the form's fields. */
export function checkAcquire(body: Record<string, unknown>): FieldErrors {
  const parsed = LockAcquireBodySchema.safeParse(body);
  const fields: FieldErrors = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '_');
      if (key === 'ttlSeconds') fields.ttlMinutes = ['a duration from 1 minute to 7 days, in minutes'];
      else (fields[key] ??= []).push(issue.message);
    }
  }
  return fields;
}
