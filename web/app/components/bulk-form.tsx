import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { Form, useNavigation } from 'react-router';
import type { HostView, ScriptView } from '../lib/api-views.ts';
import { checkBulkForm, DEFAULT_SETTINGS, type BulkFormResult, type BulkTarget } from '../lib/bulk-form.ts';
import { formatSeconds } from '../lib/format.ts';
import type { FieldErrors } from '../lib/run-form.ts';
import { BulkHostPicker, FieldError } from './bulk-host-picker.tsx';
import { BulkPreviewPanel } from './bulk-preview.tsx';
import { ParameterField } from './parameter-field.tsx';

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

interface OptionProps {
  name: string;
  label: string;
  hint: ReactNode;
  errors: FieldErrors;
  input: Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'id'>;
}

function OptionField({ name, label, hint, errors, input }: OptionProps) {
  const invalid = (errors[name]?.length ?? 0) > 0;
  return (
    <div>
      <label htmlFor={`bulk-${name}`} className="mb-1 block text-sm font-medium text-slate-800">
        {label}
      </label>
      <input
        {...input}
        id={`bulk-${name}`}
        name={name}
        spellCheck={false}
        aria-invalid={invalid || undefined}
        aria-describedby={[`bulk-${name}-hint`, invalid ? `bulk-${name}-error` : ''].filter(Boolean).join(' ')}
        className={`${inputClass} max-w-40 ${invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'}`}
      />
      <p id={`bulk-${name}-hint`} className="mt-1 text-xs text-slate-500">
        {hint}
      </p>
      <FieldError name={name} errors={errors[name]} />
    </div>
  );
}

function BulkOptionsFields({ entry, result, errors }: { entry: ScriptView; result: BulkFormResult | undefined; errors: FieldErrors }) {
  const s = result?.settings ?? DEFAULT_SETTINGS;
  return (
    <fieldset className="min-w-0">
      <legend className="mb-2 text-sm font-semibold text-slate-800">Options</legend>
      <div className="grid gap-x-5 gap-y-3 sm:grid-cols-2 lg:grid-cols-3">
        <OptionField
          name="maxParallel"
          label="At most in parallel"
          hint="Hosts running at the same time, 1 to 1000."
          errors={errors}
          input={{ type: 'number', inputMode: 'numeric', min: 1, max: 1000, step: 1, defaultValue: s.maxParallel, required: true }}
        />
        <OptionField
          name="batchSize"
          label="Batches"
          hint='Rolling waves of this many hosts, or a share such as "25%"; each waits for the one before. Empty: one wave.'
          errors={errors}
          input={{ type: 'text', placeholder: 'one wave', defaultValue: s.batchSize }}
        />
        <OptionField
          name="canarySize"
          label="Canary first"
          hint='A first wave of this many hosts, or a share such as "5%", alone before the others.'
          errors={errors}
          input={{ type: 'text', placeholder: 'no canary', defaultValue: s.canarySize }}
        />
        <OptionField
          name="failureThreshold"
          label="Failure threshold"
          hint='Stop starting hosts once this many, or a share such as "10%", have failed; the rest are skipped.'
          errors={errors}
          input={{ type: 'text', placeholder: 'no threshold', defaultValue: s.failureThreshold }}
        />
        <OptionField
          name="timeoutSeconds"
          label="Timeout per host (seconds)"
          hint={`Empty keeps the manifest's ${formatSeconds(entry.timeout)}.`}
          errors={errors}
          input={{ type: 'number', inputMode: 'numeric', min: 1, max: 86_400, step: 1, placeholder: String(entry.timeout), defaultValue: s.timeoutSeconds }}
        />
        <OptionField
          name="hostRetries"
          label="Retries per host"
          hint={`Empty keeps the manifest's ${entry.retries}.`}
          errors={errors}
          input={{ type: 'number', inputMode: 'numeric', min: 0, max: 10, step: 1, placeholder: String(entry.retries), defaultValue: s.hostRetries }}
        />
      </div>
      <div className="mt-3">
        {entry.requiresLock ? (
          <>
            <input type="hidden" name="takeLocks" value="true" />
            <p className="flex items-center gap-2 text-sm text-slate-700" data-testid="bulk-locks-required">
              <input id="bulk-takeLocks" type="checkbox" checked disabled readOnly className="size-4" aria-describedby="bulk-takeLocks-hint" />
              <label htmlFor="bulk-takeLocks">Take each host's lock while it runs</label>
            </p>
            <p id="bulk-takeLocks-hint" className="mt-1 text-xs text-slate-500">
              Always: this {entry.kind}'s manifest requires a host lock, so a host busy with another locked run waits for it.
            </p>
          </>
        ) : (
          <>
            <label htmlFor="bulk-takeLocks" className="flex items-center gap-2 text-sm text-slate-800">
              <input id="bulk-takeLocks" type="checkbox" name="takeLocks" value="true" defaultChecked={s.takeLocks} aria-describedby="bulk-takeLocks-hint" className="size-4 rounded border-slate-300" />
              Take each host's lock while it runs
            </label>
            <p id="bulk-takeLocks-hint" className="mt-1 text-xs text-slate-500">
              A host busy with another locked run is waited for, and no locked run starts on it meanwhile.
            </p>
          </>
        )}
        <FieldError name="takeLocks" errors={errors.takeLocks} />
      </div>
    </fieldset>
  );
}

interface BulkFormProps {
  entry: ScriptView;
  hosts: HostView[];
  target: BulkTarget;
  result: BulkFormResult | undefined;
  notice?: ReactNode;
}

const FOCUS_ORDER = ['hostIds', 'hostLabels', 'hostEnvironment', 'hostGroup', 'hostTags'];
const FOCUS_TARGET: Record<string, string> = { hostIds: 'hostIds', hostLabels: 'hostEnvironment' };

/** Hosts, parameters and options; Preview shows who it would run on, Confirm starts exactly that. */
export function BulkForm({ entry, hosts, target, result, notice }: BulkFormProps) {
  const navigation = useNavigation();
  const sending = navigation.state !== 'idle' && navigation.formMethod === 'POST' ? navigation.formData?.get('_intent') : null;
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  // Set to the result on show when the form is edited: that preview no longer describes what Confirm would start.
  const [editedAfter, setEditedAfter] = useState<BulkFormResult | undefined>(undefined);

  const busy = sending === 'preview' || sending === 'start';
  const shown: FieldErrors = clientErrors ?? (busy ? {} : (result?.fields ?? {}));
  const known = new Set([...FOCUS_ORDER, 'maxParallel', 'batchSize', 'canarySize', 'failureThreshold', 'timeoutSeconds', 'hostRetries', 'takeLocks', ...entry.parameters.map((p) => p.name)]);
  const otherErrors = Object.entries(shown).filter(([key]) => !known.has(key));
  const banner = clientErrors === null && !busy && result?.message ? result.message : null;
  const preview = clientErrors === null && !busy ? (result?.preview ?? null) : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const { fields } = checkBulkForm(entry.parameters, new FormData(event.currentTarget), target);
    if (Object.keys(fields).length === 0) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(fields);
    const order = [...FOCUS_ORDER, ...entry.parameters.map((p) => p.name), ...Object.keys(fields)];
    const first = order.find((name) => fields[name]);
    const element = first ? event.currentTarget.elements.namedItem(FOCUS_TARGET[first] ?? first) : null;
    if (element instanceof HTMLElement) element.focus();
    else if (element instanceof RadioNodeList && element[0] instanceof HTMLElement) element[0].focus();
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (result?.preview) setEditedAfter(result);
    if (clientErrors !== null) setClientErrors(checkBulkForm(entry.parameters, new FormData(event.currentTarget), target).fields);
  }

  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="rounded border border-slate-200 bg-white px-4 py-3" data-testid="bulk-form">
      {entry.runnable ? null : (
        <div role="status" data-testid="not-runnable" className="mb-3 rounded border border-slate-300 bg-slate-100 px-3 py-2 text-sm text-slate-800">
          <span className="font-medium">This {entry.kind} cannot run{entry.notRunnableReason ? ':' : '.'}</span> {entry.notRunnableReason ?? ''}
        </div>
      )}
      {notice}
      {banner ? (
        <div role="alert" data-testid="bulk-form-message" className="mb-3 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {banner}
        </div>
      ) : null}
      {otherErrors.length > 0 ? (
        <ul role="alert" className="mb-3 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {otherErrors.map(([key, messages]) => (
            <li key={key} data-field-error={key}>
              {messages.join(' ')}
            </li>
          ))}
        </ul>
      ) : null}

      <fieldset disabled={!entry.runnable} className="min-w-0 space-y-4 disabled:opacity-60">
        <BulkHostPicker hosts={hosts} hostTags={entry.hostTags} kind={entry.kind} settings={result?.settings ?? DEFAULT_SETTINGS} errors={shown} />

        <fieldset className="min-w-0 border-t border-slate-200 pt-3">
          <legend className="sr-only">Parameters</legend>
          <h2 className="text-sm font-semibold text-slate-800">Parameters</h2>
          {entry.parameters.length === 0 ? (
            <p className="py-2 text-sm text-slate-500">This {entry.kind} takes no parameters.</p>
          ) : (
            <div className="divide-y divide-slate-100">
              {entry.parameters.map((p) => (
                <ParameterField key={p.name} parameter={p} submitted={result?.values[p.name]} errors={shown[p.name]} hosts={hosts} />
              ))}
            </div>
          )}
        </fieldset>

        <div className="border-t border-slate-200 pt-3">
          <BulkOptionsFields entry={entry} result={result} errors={shown} />
        </div>

        <div className="flex items-center gap-3 border-t border-slate-200 pt-3">
          <button
            type="submit"
            name="_intent"
            value="preview"
            disabled={busy}
            data-testid="preview-bulk"
            className="rounded bg-slate-800 px-4 py-1.5 text-sm font-medium text-white hover:bg-slate-700 disabled:cursor-not-allowed disabled:opacity-60"
          >
            {sending === 'preview' ? 'Previewing…' : 'Preview'}
          </button>
          <span className="text-xs text-slate-500">Nothing runs until you confirm the preview.</span>
        </div>

        {preview && result ? (
          <BulkPreviewPanel
            preview={preview}
            canary={result.settings.canarySize !== ''}
            maxParallel={result.settings.maxParallel}
            stale={editedAfter === result}
            busy={sending === 'start'}
          />
        ) : null}
      </fieldset>
    </Form>
  );
}
