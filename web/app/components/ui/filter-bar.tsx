import type { ComponentProps, FormEvent, ReactNode } from 'react';
import { Form, Link, useSubmit } from 'react-router';
import { filledFields } from '../../lib/links.ts';
import { Button } from './button.tsx';
import { Options } from './field.tsx';

const filterControl = 'rounded border border-slate-300 bg-white px-2 py-1 text-sm shadow-xs focus:border-slate-500 focus:outline-none';

/** Puts a filter form's fields in the URL, leaving the empty ones out. */
export function useApplyFilters(action: string) {
  const submit = useSubmit();
  return (form: HTMLFormElement | null, replace = false) => {
    if (form) void submit(filledFields(form), { method: 'get', action, replace });
  };
}

interface FilterBarProps {
  /** The list's own path: the filters live in its URL. */
  action: string;
  testId?: string;
  /** Whether any filter is in use: then a link clears them all. */
  filtered: boolean;
  resetTo?: string;
  submitLabel?: string;
  resetLabel?: string;
  /** Boxed, with labels above the fields; off for a bare search line. */
  framed?: boolean;
  children: ReactNode;
}

/**
 * A list's filters: a plain GET form, so without JS Apply puts every field in the URL; with JS only the filled ones,
 * and a select marked `autoApply` applies as soon as it changes.
 */
export function FilterBar({ action, testId, filtered, resetTo = action, submitLabel = 'Apply', resetLabel = 'Reset', framed = true, children }: FilterBarProps) {
  const apply = useApplyFilters(action);
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    apply(event.currentTarget);
  }
  return (
    <Form
      method="get"
      action={action}
      role="search"
      onSubmit={onSubmit}
      data-testid={testId}
      className={framed ? 'flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-3 py-2' : 'flex flex-wrap items-center gap-2'}
    >
      {children}
      <Button type="submit" variant="filter" size={framed ? 'sm' : 'md'}>
        {submitLabel}
      </Button>
      {filtered ? (
        <Link to={resetTo} className="px-1 py-1 text-sm text-slate-600 underline">
          {resetLabel}
        </Link>
      ) : null}
    </Form>
  );
}

function FilterLabel({ label, children }: { label: string | undefined; children: ReactNode }) {
  if (label === undefined) return <>{children}</>;
  return (
    <label className="flex flex-col text-xs text-slate-600">
      {label}
      {children}
    </label>
  );
}

interface FilterSelectProps {
  name: string;
  /** Above the select; without it, `ariaLabel` names it. */
  label?: string;
  ariaLabel?: string;
  value: string;
  /** The first option, for no filter: "any", "any tag". */
  anyLabel: string;
  options: readonly (readonly [value: string, label: string])[];
  /** Apply the filters as soon as this changes. */
  autoApply?: boolean;
  testId?: string;
}

export function FilterSelect({ name, label, ariaLabel, value, anyLabel, options, autoApply = false, testId }: FilterSelectProps) {
  return (
    <FilterLabel label={label}>
      <select
        name={name}
        defaultValue={value}
        aria-label={label === undefined ? ariaLabel : undefined}
        onChange={autoApply ? (e) => e.currentTarget.form?.requestSubmit() : undefined}
        data-testid={testId}
        className={filterControl}
      >
        <Options choices={options} empty={anyLabel} />
      </select>
    </FilterLabel>
  );
}

export function FilterInput({ label, className = '', ...input }: { label?: string } & ComponentProps<'input'>) {
  return (
    <FilterLabel label={label}>
      <input {...input} className={`${filterControl} ${className}`} />
    </FilterLabel>
  );
}
