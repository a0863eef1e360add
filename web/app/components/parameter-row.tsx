import { PARAMETER_TYPES } from '@drydock/core/manifest';
import type { ReactNode } from 'react';
import { fieldText, isParameterType, TYPE_FIELDS, type ParameterType } from '../lib/action-draft.ts';
import type { FieldErrors } from '../lib/form-errors.ts';
import { Field, FieldError } from './manifest-field.tsx';
import { Options } from './ui/field.tsx';

export interface ParameterRowState {
  key: number;
  type: ParameterType;
  initial: Record<string, unknown>;
}

function TypeFields({ prefix, type, initial, errors }: { prefix: string; type: ParameterType; initial: Record<string, unknown>; errors: FieldErrors }) {
  const value = (field: string) => (initial.type === type ? fieldText(initial[field]) : '');
  const numberInput = (field: string, label: string) => (
    <Field key={field} name={`${prefix}.${field}`} label={label} errors={errors}>
      {(props) => <input {...props} type="number" step="any" defaultValue={value(field)} />}
    </Field>
  );
  const fields: ReactNode[] = [];
  for (const field of TYPE_FIELDS[type]) {
    if (field === 'pattern') {
      fields.push(
        <Field key={field} name={`${prefix}.pattern`} label="Pattern (regex)" errors={errors} className="sm:col-span-2">
          {(props) => <input {...props} type="text" spellCheck={false} defaultValue={value(field)} className={`${props.className} font-mono`} />}
        </Field>,
      );
    } else if (field === 'min_length' || field === 'max_length') {
      fields.push(numberInput(field, field === 'min_length' ? 'Min length' : 'Max length'));
    } else if (field === 'options') {
      fields.push(
        <Field key={field} name={`${prefix}.options`} label="Options (comma-separated)" errors={errors} className="sm:col-span-2">
          {(props) => <input {...props} type="text" defaultValue={value(field)} />}
        </Field>,
      );
    } else if (field === 'min' || field === 'max') {
      const label = type === 'host_list' ? (field === 'min' ? 'Min hosts' : 'Max hosts') : field === 'min' ? 'Min' : 'Max';
      fields.push(
        type === 'date' ? (
          <Field key={field} name={`${prefix}.${field}`} label={`${label} date`} errors={errors}>
            {(props) => <input {...props} type="date" defaultValue={value(field)} />}
          </Field>
        ) : (
          numberInput(field, label)
        ),
      );
    } else if (type === 'boolean') {
      fields.push(
        <Field key={field} name={`${prefix}.default`} label="Default" errors={errors}>
          {(props) => (
            <select {...props} defaultValue={value(field)}>
              <option value="">(unset: false)</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          )}
        </Field>,
      );
    } else {
      const label = type === 'host_list' ? 'Default hosts (comma-separated ids)' : type === 'host' ? 'Default host id' : 'Default';
      fields.push(
        <Field key={field} name={`${prefix}.default`} label={label} errors={errors}>
          {(props) =>
            type === 'integer' || type === 'number' ? (
              <input {...props} type="number" step="any" defaultValue={value(field)} />
            ) : (
              <input {...props} type={type === 'date' ? 'date' : 'text'} defaultValue={value(field)} />
            )
          }
        </Field>,
      );
    }
  }
  return <>{fields}</>;
}

/** One parameter of the manifest: the fields every type has, then the ones its type adds. */
export function ParameterRow({ row, index, errors, onType, onRemove }: { row: ParameterRowState; index: number; errors: FieldErrors; onType: (t: ParameterType) => void; onRemove: () => void }) {
  const prefix = `parameters.${index}`;
  const initial = row.initial;
  return (
    <fieldset className="rounded border border-slate-200 bg-slate-50/60 p-3" data-testid="parameter-row" data-index={index}>
      <legend className="px-1 text-xs font-semibold text-slate-600">Parameter {index + 1}</legend>
      <FieldError name={prefix} errors={errors} />
      <div className="grid gap-3 sm:grid-cols-[1fr_10rem_1fr_auto]">
        <Field name={`${prefix}.name`} label="Name" errors={errors} hint="lower_snake_case; {{name}} in the command">
          {(props) => <input {...props} type="text" spellCheck={false} defaultValue={fieldText(initial.name)} className={`${props.className} font-mono`} />}
        </Field>
        <Field name={`${prefix}.type`} label="Type" errors={errors}>
          {(props) => (
            <select {...props} value={row.type} onChange={(e) => isParameterType(e.currentTarget.value) && onType(e.currentTarget.value)}>
              <Options choices={PARAMETER_TYPES} />
            </select>
          )}
        </Field>
        <Field name={`${prefix}.title`} label="Title" errors={errors}>
          {(props) => <input {...props} type="text" defaultValue={fieldText(initial.title)} />}
        </Field>
        <div className="flex items-center gap-3 sm:mt-5 sm:h-9">
          <label className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" name={`${prefix}.required`} value="true" defaultChecked={initial.required === true} className="size-4 rounded border-slate-300" />
            required
          </label>
          <button type="button" onClick={onRemove} data-testid="remove-parameter" className="text-xs text-red-700 hover:underline" aria-label={`Remove parameter ${index + 1}`}>
            Remove
          </button>
        </div>
      </div>
      <div className="mt-3 grid gap-3 sm:grid-cols-4">
        <Field name={`${prefix}.description`} label="Description" errors={errors} className="sm:col-span-4">
          {(props) => <input {...props} type="text" defaultValue={fieldText(initial.description)} />}
        </Field>
        {/* Keyed by type: switching type starts that type's fields afresh instead of carrying over a meaningless value. */}
        <TypeFields key={row.type} prefix={prefix} type={row.type} initial={initial} errors={errors} />
      </div>
    </fieldset>
  );
}
