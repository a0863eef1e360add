import type { ReactNode } from 'react';
import { errorsAt } from '../lib/action-draft.ts';
import type { FieldErrors } from '../lib/form-errors.ts';
import { Field as KitField, FieldError as KitFieldError, type ControlProps } from './ui/field.tsx';

const idOf = (name: string) => `field-${name.replaceAll('.', '-')}`;

/** The errors reported at one manifest path (and the list items under it), by the shared schema or the API. */
export function FieldError({ name, errors }: { name: string; errors: FieldErrors }) {
  return <KitFieldError id={`${idOf(name)}-error`} name={name} messages={errorsAt(errors, name)} />;
}

interface FieldProps {
  name: string;
  label: string;
  errors: FieldErrors;
  hint?: ReactNode;
  className?: string;
  children: (props: ControlProps) => ReactNode;
}

/** An input named by its manifest path (`parameters.0.name`), so the API's field errors land beside it. */
export function Field({ name, label, errors, hint, className, children }: FieldProps) {
  return (
    <KitField name={name} id={idOf(name)} label={label} messages={errorsAt(errors, name)} description={hint} className={className}>
      {children}
    </KitField>
  );
}
