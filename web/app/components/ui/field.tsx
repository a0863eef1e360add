import type { ReactNode } from 'react';

/** The look of a text input, select or textarea; red-bordered while it has errors. */
function controlClass(invalid: boolean, extra = ''): string {
  return `block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200 ${invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'} ${extra}`;
}

/** The props a field hands its control: tie it to its label, description and errors. */
export interface ControlProps {
  id: string;
  name: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
  'aria-required'?: true;
  'aria-labelledby'?: string;
  className: string;
}

/** A field's problems, one per line; `data-field-error` names the field they belong to, for tests and scripts. */
export function FieldError({ id, name, messages }: { id?: string; name: string; messages: readonly string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <p id={id} data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
      {messages.map((m, i) => (
        <span key={i} className="block">
          {i > 0 ? ' ' : ''}
          {m}
        </span>
      ))}
    </p>
  );
}

/** The red asterisk; the control says `aria-required` to a screen reader, a group of controls says it in words. */
function RequiredMark({ spoken }: { spoken: boolean }) {
  return (
    <>
      <span aria-hidden className="ml-0.5 text-red-600" title="required">
        *
      </span>
      {spoken ? <span className="sr-only">, required</span> : null}
    </>
  );
}

const optionalMark = <span className="font-normal text-slate-500">(optional)</span>;

const LABEL = { xs: 'text-xs font-medium text-slate-700', sm: 'text-sm font-medium text-slate-800' };

interface FieldProps {
  /** The form field's name: what the route action reads and what errors are keyed by. */
  name: string;
  id: string;
  label: ReactNode;
  messages?: readonly string[];
  description?: ReactNode;
  required?: boolean;
  optional?: boolean;
  /** After the label and its marks, quieter: the parameter name beside its title. */
  aside?: ReactNode;
  /** `stacked`: label above; `inline`: a checkbox with its label beside it; `group`: a set of inputs named by one label. */
  layout?: 'stacked' | 'inline' | 'group';
  size?: 'xs' | 'sm';
  className?: string;
  testId?: string;
  children: (control: ControlProps) => ReactNode;
}

/** Label, control, description and errors, wired together (for, aria-describedby, aria-invalid) the same way everywhere. */
export function Field({ name, id, label, messages, description, required, optional, aside, layout = 'stacked', size = 'xs', className, testId, children }: FieldProps) {
  const invalid = messages !== undefined && messages.length > 0;
  const described = [description ? `${id}-hint` : '', invalid ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const control = children({
    id,
    name,
    'aria-invalid': invalid || undefined,
    'aria-describedby': described,
    ...(layout === 'group' ? { 'aria-labelledby': `${id}-label` } : { 'aria-required': required || undefined }),
    className: layout === 'inline' ? 'size-4 rounded border-slate-300' : controlClass(invalid),
  });
  const text = (
    <span className={LABEL[size]}>
      {label}
      {required ? <RequiredMark spoken={layout === 'group'} /> : null}
      {optional ? <> {optionalMark}</> : null}
      {aside}
    </span>
  );
  return (
    <div className={className} data-field={name} data-testid={testId}>
      {layout === 'inline' ? (
        <label htmlFor={id} className="flex items-center gap-2">
          {control}
          {text}
        </label>
      ) : layout === 'group' ? (
        <>
          <p id={`${id}-label`} className="mb-1">
            {text}
          </p>
          {control}
        </>
      ) : (
        <>
          <label htmlFor={id} className="mb-1 block">
            {text}
          </label>
          {control}
        </>
      )}
      {description ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {description}
        </p>
      ) : null}
      <FieldError id={`${id}-error`} name={name} messages={messages} />
    </div>
  );
}

/** A value shown where an input would be, for what cannot change (an id once created). */
export function StaticField({ label, children }: { label: ReactNode; children: ReactNode }) {
  return (
    <div>
      <p className="mb-1 text-xs font-medium text-slate-700">{label}</p>
      <p className="py-1.5 font-mono text-sm">{children}</p>
    </div>
  );
}

/** Problems no input of the form shows (a field the page does not have, the request as a whole): listed above it, so none goes unseen. */
export function UnplacedErrors({ entries, showField = false, className = '' }: { entries: readonly (readonly [field: string, messages: readonly string[]])[]; showField?: boolean; className?: string }) {
  if (entries.length === 0) return null;
  return (
    <ul role="alert" className={`rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 ${className}`}>
      {entries.map(([field, messages]) => (
        <li key={field} data-field-error={field}>
          {showField && field !== '' && field !== '_' ? <span className="font-mono">{field}: </span> : null}
          {messages.join(' ')}
        </li>
      ))}
    </ul>
  );
}

type Choice = string | readonly [value: string, label: string];

/** A select's options from a list: values that are their own label, or value and label pairs; `empty` first, for none. */
export function Options({ choices, empty }: { choices: readonly Choice[]; empty?: string }) {
  return (
    <>
      {empty !== undefined ? <option value="">{empty}</option> : null}
      {choices.map((c) => {
        const [value, label] = typeof c === 'string' ? [c, c] : c;
        return (
          <option key={value} value={value}>
            {label}
          </option>
        );
      })}
    </>
  );
}

/** A box that narrows a list on the page as you type (hosts in a grid or a picker); the list says what it shows. */
export function SearchInput({ label, placeholder, value, onChange, className = '' }: { label: string; placeholder: string; value: string; onChange: (value: string) => void; className?: string }) {
  return <input type="search" aria-label={label} placeholder={placeholder} value={value} onChange={(e) => onChange(e.currentTarget.value)} className={controlClass(false, className)} />;
}
