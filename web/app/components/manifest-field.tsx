import type { ReactNode } from 'react';
import { errorsAt } from '../lib/action-draft.ts';
import type { FieldErrors } from '../lib/run-form.ts';

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

/** The errors reported at one manifest path, by the shared schema or the API, one per line. */
export function FieldError({ name, errors }: { name: string; errors: FieldErrors }) {
  const messages = errorsAt(errors, name);
  if (messages.length === 0) return null;
  return (
    <p id={`${name}-error`} data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
      {messages.map((m, i) => (
        <span key={i} className="block">
          {m}
        </span>
      ))}
    </p>
  );
}

interface FieldProps {
  name: string;
  label: string;
  errors: FieldErrors;
  hint?: ReactNode;
  className?: string;
  children: (props: { id: string; name: string; 'aria-invalid'?: true; 'aria-describedby'?: string; className: string }) => ReactNode;
}

/** Label, input, hint and the errors reported for this input's manifest path. */
export function Field({ name, label, errors, hint, className = '', children }: FieldProps) {
  const invalid = errorsAt(errors, name).length > 0;
  const id = `field-${name.replaceAll('.', '-')}`;
  const described = [hint ? `${id}-hint` : '', invalid ? `${name}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={className} data-field={name}>
      <label htmlFor={id} className="mb-1 block text-xs font-medium text-slate-700">
        {label}
      </label>
      {children({
        id,
        name,
        'aria-invalid': invalid || undefined,
        'aria-describedby': described,
        className: `${inputClass} ${invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'}`,
      })}
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      <FieldError name={name} errors={errors} />
    </div>
  );
}
