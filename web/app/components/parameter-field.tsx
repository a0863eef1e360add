import type { Parameter } from '@drydock/core/manifest';
import type { HostView } from '@drydock/core/api-schemas';
import { Field, type ControlProps } from './ui/field.tsx';

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
  const text = submitted ?? defaultText(p);
  const hints = constraints(p);
  const description =
    p.description || hints.length > 0 ? (
      <>
        {p.description}
        {p.description && hints.length > 0 ? ' · ' : ''}
        {hints.length > 0 ? <span className="font-mono">{hints.join(', ')}</span> : null}
      </>
    ) : undefined;

  function control(props: ControlProps) {
    switch (p.type) {
      case 'string':
        // No maxLength attribute: the shared validator reports an overlong value instead of the browser silently cutting it.
        // No pattern attribute either: the browser would run it with its backtracking engine (and anchored, unlike the
        // API); the shared validator checks it in linear time.
        return <input {...props} type="text" defaultValue={text} required={p.required} minLength={p.min_length} className={`${props.className} max-w-xl`} />;
      case 'multiline':
        return <textarea {...props} rows={5} defaultValue={text} required={p.required} minLength={p.min_length} className={`${props.className} font-mono`} />;
      case 'secret':
        return <input {...props} type="password" autoComplete="off" defaultValue="" required={p.required} minLength={p.min_length} className={`${props.className} max-w-xl`} />;
      case 'integer':
      case 'number':
        return (
          <input
            {...props}
            type="number"
            inputMode={p.type === 'integer' ? 'numeric' : 'decimal'}
            step={p.type === 'integer' ? 1 : 'any'}
            min={p.min}
            max={p.max}
            defaultValue={text}
            required={p.required}
            className={`${props.className} max-w-xs`}
          />
        );
      case 'boolean': {
        const checked = submitted !== undefined ? submitted === 'true' || submitted === 'on' : (p.default ?? false);
        return <input {...props} type="checkbox" value="true" defaultChecked={checked} />;
      }
      case 'enum':
        return (
          <select {...props} defaultValue={text} required={p.required} className={`${props.className} max-w-md`}>
            {p.default === undefined ? <option value="">{p.required ? 'Choose…' : '(none)'}</option> : null}
            {p.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        );
      case 'host': {
        const known = text === '' || hosts.some((h) => h.id === text);
        return (
          <select {...props} defaultValue={text} required={p.required} className={`${props.className} max-w-md`}>
            {p.default === undefined ? <option value="">{p.required ? 'Choose a host…' : '(none)'}</option> : null}
            {known ? null : <option value={text}>{text} (not available)</option>}
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {hostLabel(h)}
              </option>
            ))}
          </select>
        );
      }
      case 'host_list': {
        const ticked = new Set(given === undefined ? (p.default ?? []) : Array.isArray(given) ? given : [given]);
        if (hosts.length === 0) return <p className="text-sm text-amber-800">No host is available to choose.</p>;
        return (
          <div
            role="group"
            aria-labelledby={props['aria-labelledby']}
            aria-describedby={props['aria-describedby']}
            aria-invalid={props['aria-invalid']}
            className="flex flex-wrap gap-x-4 gap-y-1.5"
          >
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
      }
      case 'date':
        return <input {...props} type="date" min={p.min} max={p.max} defaultValue={text} required={p.required} className={`${props.className} max-w-48`} />;
    }
  }

  return (
    <Field
      name={p.name}
      id={id}
      label={p.title ?? p.name}
      aside={<span className="ml-2 font-mono text-xs font-normal text-slate-400">{p.name}</span>}
      required={p.required}
      messages={errors}
      description={description}
      layout={p.type === 'boolean' ? 'inline' : p.type === 'host_list' ? 'group' : 'stacked'}
      size="sm"
      className="py-3"
    >
      {control}
    </Field>
  );
}
