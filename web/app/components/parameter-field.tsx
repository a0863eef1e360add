import type { Parameter } from '@drydock/core/manifest';
import type { HostView } from '../lib/api-views.ts';

const inputClass =
  'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

function constraints(p: Parameter): string[] {
  const out: string[] = [];
  if (p.type === 'string' || p.type === 'multiline' || p.type === 'secret') {
    const min = p.min_length;
    const max = p.type === 'secret' ? undefined : p.max_length;
    if (min !== undefined && max !== undefined) out.push(`${min}–${max} characters`);
    else if (min !== undefined) out.push(`at least ${min} characters`);
    else if (max !== undefined) out.push(`at most ${max} characters`);
    if (p.type !== 'secret' && p.pattern !== undefined) out.push(`pattern ${p.pattern}`);
  }
  if (p.type === 'integer' || p.type === 'number') {
    if (p.type === 'integer') out.push('whole number');
    if (p.min !== undefined && p.max !== undefined) out.push(`${p.min} to ${p.max}`);
    else if (p.min !== undefined) out.push(`≥ ${p.min}`);
    else if (p.max !== undefined) out.push(`≤ ${p.max}`);
  }
  if (p.type === 'host_list') {
    if (p.min !== undefined && p.max !== undefined) out.push(`${p.min} to ${p.max} hosts`);
    else if (p.min !== undefined) out.push(`at least ${p.min} host${p.min === 1 ? '' : 's'}`);
    else if (p.max !== undefined) out.push(`at most ${p.max} hosts`);
  }
  if (p.type === 'date') {
    if (p.min !== undefined && p.max !== undefined) out.push(`${p.min} to ${p.max}`);
    else if (p.min !== undefined) out.push(`on or after ${p.min}`);
    else if (p.max !== undefined) out.push(`on or before ${p.max}`);
  }
  return out;
}

function defaultText(p: Parameter): string {
  if (p.type === 'secret' || p.type === 'boolean' || p.type === 'host_list' || p.default === undefined) return '';
  return String(p.default);
}

function hostLabel(h: HostView): string {
  return `${h.name} (${h.online ? 'online' : 'offline'})`;
}

interface ParameterFieldProps {
  parameter: Parameter;
  /** What the person typed last time, when the server sent the form back. */
  submitted: string | string[] | undefined;
  errors: string[] | undefined;
  /** The hosts a host or host-list parameter offers: those carrying the entry's host tags. */
  hosts: HostView[];
}

export function ParameterField({ parameter: p, submitted: given, errors, hosts }: ParameterFieldProps) {
  const submitted = Array.isArray(given) ? given[0] : given;
  const id = `param-${p.name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = errors !== undefined && errors.length > 0;
  const border = invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500';
  const described = [p.description || constraints(p).length > 0 ? hintId : '', invalid ? errorId : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: p.name,
    'aria-invalid': invalid || undefined,
    'aria-describedby': described,
    'aria-required': p.required || undefined,
  };
  const text = submitted ?? defaultText(p);
  const hints = constraints(p);

  let control;
  switch (p.type) {
    case 'string':
      // No maxLength attribute: the shared validator reports an overlong value instead of the browser silently cutting it.
      // No pattern attribute either: the browser would run it with its backtracking engine (and anchored, unlike the
      // API); the shared validator checks it in linear time.
      control = (
        <input {...common} type="text" defaultValue={text} required={p.required} minLength={p.min_length} className={`${inputClass} ${border} max-w-xl`} />
      );
      break;
    case 'multiline':
      control = (
        <textarea {...common} rows={5} defaultValue={text} required={p.required} minLength={p.min_length} className={`${inputClass} ${border} font-mono`} />
      );
      break;
    case 'secret':
      control = (
        <input {...common} type="password" autoComplete="off" defaultValue="" required={p.required} minLength={p.min_length} className={`${inputClass} ${border} max-w-xl`} />
      );
      break;
    case 'integer':
    case 'number':
      control = (
        <input
          {...common}
          type="number"
          inputMode={p.type === 'integer' ? 'numeric' : 'decimal'}
          step={p.type === 'integer' ? 1 : 'any'}
          min={p.min}
          max={p.max}
          defaultValue={text}
          required={p.required}
          className={`${inputClass} ${border} max-w-xs`}
        />
      );
      break;
    case 'boolean': {
      const checked = submitted !== undefined ? submitted === 'true' || submitted === 'on' : (p.default ?? false);
      control = (
        <input {...common} type="checkbox" value="true" defaultChecked={checked} className="size-4 rounded border-slate-300" />
      );
      break;
    }
    case 'enum':
      control = (
        <select {...common} defaultValue={text} required={p.required} className={`${inputClass} ${border} max-w-md`}>
          {p.default === undefined ? <option value="">{p.required ? 'Choose…' : '(none)'}</option> : null}
          {p.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case 'host': {
      const known = text === '' || hosts.some((h) => h.id === text);
      control = (
        <select {...common} defaultValue={text} required={p.required} className={`${inputClass} ${border} max-w-md`}>
          {p.default === undefined ? <option value="">{p.required ? 'Choose a host…' : '(none)'}</option> : null}
          {known ? null : <option value={text}>{text} (not available)</option>}
          {hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {hostLabel(h)}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'host_list': {
      const ticked = new Set(given === undefined ? (p.default ?? []) : Array.isArray(given) ? given : [given]);
      control =
        hosts.length === 0 ? (
          <p className="text-sm text-amber-800">No host is available to choose.</p>
        ) : (
          <div role="group" aria-labelledby={`${id}-label`} aria-describedby={described} aria-invalid={invalid || undefined} className="flex flex-wrap gap-x-4 gap-y-1.5">
            {hosts.map((h) => (
              <label key={h.id} htmlFor={`${id}-${h.id}`} className="flex items-center gap-1.5 text-sm">
                <input id={`${id}-${h.id}`} type="checkbox" name={p.name} value={h.id} defaultChecked={ticked.has(h.id)} className="size-4 rounded border-slate-300" />
                <span>{h.name}</span>
                <span aria-hidden className={`size-2 rounded-full ${h.online ? 'bg-emerald-500' : 'bg-slate-400'}`} />
                <span className="sr-only">{h.online ? 'online' : 'offline'}</span>
              </label>
            ))}
          </div>
        );
      break;
    }
    case 'date':
      control = <input {...common} type="date" min={p.min} max={p.max} defaultValue={text} required={p.required} className={`${inputClass} ${border} max-w-48`} />;
      break;
  }

  const label = (
    <span className="text-sm font-medium text-slate-800">
      {p.title ?? p.name}
      {p.required ? (
        <span className="ml-0.5 text-red-600" aria-label="required" title="required">
          *
        </span>
      ) : null}
      <span className="ml-2 font-mono text-xs font-normal text-slate-400">{p.name}</span>
    </span>
  );

  return (
    <div className="py-3" data-param={p.name}>
      {p.type === 'boolean' ? (
        <label htmlFor={id} className="flex items-center gap-2">
          {control}
          {label}
        </label>
      ) : p.type === 'host_list' ? (
        <>
          <p id={`${id}-label`} className="mb-1">
            {label}
          </p>
          {control}
        </>
      ) : (
        <>
          <label htmlFor={id} className="mb-1 block">
            {label}
          </label>
          {control}
        </>
      )}
      {p.description || hints.length > 0 ? (
        <p id={hintId} className="mt-1 text-xs text-slate-500">
          {p.description}
          {p.description && hints.length > 0 ? ' · ' : ''}
          {hints.length > 0 ? <span className="font-mono">{hints.join(', ')}</span> : null}
        </p>
      ) : null}
      {invalid ? (
        <p id={errorId} data-field-error={p.name} className="mt-1 text-xs font-medium text-red-700">
          {errors.join(' ')}
        </p>
      ) : null}
    </div>
  );
}
