import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { Form } from 'react-router';
import type { HostView, ScriptView } from '@drydock/core/api-schemas';
import { checkBulkForm, DEFAULT_SETTINGS, type BulkFormResult, type BulkTarget } from '../lib/bulk-form.ts';
import { unplacedErrors, type FieldErrors } from '../lib/form-errors.ts';
import { formatSeconds } from '../lib/format.ts';
import { BulkHostPicker } from './bulk-host-picker.tsx';
import { BulkPreviewPanel } from './bulk-preview.tsx';
import { ParameterField } from './parameter-field.tsx';
import { NotRunnableNotice } from './run-form.tsx';
import { IntentButton } from './ui/button.tsx';
import { Field, FieldError, UnplacedErrors } from './ui/field.tsx';
import { useCheckedForm } from './ui/form.ts';
import { Notice } from './ui/notice.tsx';

const COUNT_OR_SHARE = { type: 'text' } as const;
const WHOLE = { type: 'number', inputMode: 'numeric', step: 1 } as const;

type OptionSetting = 'maxParallel' | 'batchSize' | 'canarySize' | 'failureThreshold' | 'timeoutSeconds' | 'hostRetries';

/** The options of an execution, as inputs: each name is a form field `readSettings` reads back into `BulkSettings`. */
function optionInputs(entry: ScriptView): { name: OptionSetting; label: string; hint: ReactNode; input: Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'id' | 'defaultValue'> }[] {
  return [
    { name: 'maxParallel', label: 'At most in parallel', hint: 'Hosts running at the same time, 1 to 1000.', input: { ...WHOLE, min: 1, max: 1000, required: true } },
    {
      name: 'batchSize',
      label: 'Batches',
      hint: 'Rolling waves of this many hosts, or a share such as "25%"; each waits for the one before. Empty: one wave.',
      input: { ...COUNT_OR_SHARE, placeholder: 'one wave' },
    },
    { name: 'canarySize', label: 'Canary first', hint: 'A first wave of this many hosts, or a share such as "5%", alone before the others.', input: { ...COUNT_OR_SHARE, placeholder: 'no canary' } },
    {
      name: 'failureThreshold',
      label: 'Failure threshold',
      hint: 'Stop starting hosts once this many, or a share such as "10%", have failed; the rest are skipped.',
      input: { ...COUNT_OR_SHARE, placeholder: 'no threshold' },
    },
    { name: 'timeoutSeconds', label: 'Timeout per host (seconds)', hint: `Empty keeps the manifest's ${formatSeconds(entry.timeout)}.`, input: { ...WHOLE, min: 1, max: 86_400, placeholder: String(entry.timeout) } },
    { name: 'hostRetries', label: 'Retries per host', hint: `Empty keeps the manifest's ${entry.retries}.`, input: { ...WHOLE, min: 0, max: 10, placeholder: String(entry.retries) } },
  ];
}

/** Fields of the bulk form besides the parameters; errors under any other name are listed above the form. */
const BULK_FIELDS = ['hostIds', 'hostLabels', 'hostEnvironment', 'hostGroup', 'hostTags', 'maxParallel', 'batchSize', 'canarySize', 'failureThreshold', 'timeoutSeconds', 'hostRetries', 'takeLocks'];

export function BulkOptionsFields({ entry, result, errors }: { entry: ScriptView; result: BulkFormResult | undefined; errors: FieldErrors }) {
  const s = result?.settings ?? DEFAULT_SETTINGS;
  return (
    <fieldset className="min-w-0">
      <legend className="mb-2 text-sm font-semibold text-slate-800">Options</legend>
      <div className="grid gap-x-5 gap-y-3 sm:grid-cols-2 lg:grid-cols-3">
        {optionInputs(entry).map(({ name, label, hint, input }) => (
          <Field key={name} name={name} id={`bulk-${name}`} label={label} description={hint} messages={errors[name]} size="sm">
            {(props) => <input {...input} {...props} defaultValue={s[name]} spellCheck={false} className={`${props.className} max-w-40`} />}
          </Field>
        ))}
      </div>
      <div className="mt-3">
        {/* A lock the manifest requires is taken whatever the box says: the box shows it, the hidden field sends it. */}
        {entry.requiresLock ? <input type="hidden" name="takeLocks" value="true" /> : null}
        <Field
          name="takeLocks"
          id="bulk-takeLocks"
          label="Take each host's lock while it runs"
          layout="inline"
          size="sm"
          testId={entry.requiresLock ? 'bulk-locks-required' : undefined}
          description={
            entry.requiresLock
              ? `Always: this ${entry.kind}'s manifest requires a host lock, so a host busy with another locked run waits for it.`
              : 'A host busy with another locked run is waited for, and no locked run starts on it meanwhile.'
          }
        >
          {({ name, ...props }) =>
            entry.requiresLock ? <input {...props} type="checkbox" checked disabled readOnly /> : <input {...props} name={name} type="checkbox" value="true" defaultChecked={s.takeLocks} />
          }
        </Field>
        <FieldError name="takeLocks" messages={errors.takeLocks} />
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

/** Hosts, parameters and options; Preview shows who it would run on, Confirm starts exactly that. */
export function BulkForm({ entry, hosts, target, result, notice }: BulkFormProps) {
  const form = useCheckedForm({
    check: (data) => checkBulkForm(entry.parameters, data, target).fields,
    serverErrors: result?.fields ?? {},
    intents: ['preview', 'start'],
  });
  const { errors, complained, busy } = form;
  // Set to the result on show when the form is edited: that preview no longer describes what Confirm would start.
  const [editedAfter, setEditedAfter] = useState<BulkFormResult | undefined>(undefined);

  const known = new Set([...BULK_FIELDS, ...entry.parameters.map((p) => p.name)]);
  const banner = !complained && !busy && result?.message ? result.message : null;
  const preview = !complained && !busy ? (result?.preview ?? null) : null;

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (result?.preview) setEditedAfter(result);
    form.onChange(event);
  }

  return (
    <Form method="post" noValidate onSubmit={form.onSubmit} onChange={onChange} className="rounded border border-slate-200 bg-white px-4 py-3" data-testid="bulk-form">
      <NotRunnableNotice entry={entry} />
      {notice}
      {banner ? (
        <Notice tone="error" as="div" testId="bulk-form-message" className="mb-3">
          {banner}
        </Notice>
      ) : null}
      <UnplacedErrors entries={unplacedErrors(errors, (field) => known.has(field))} className="mb-3" />

      <fieldset disabled={!entry.runnable} className="min-w-0 space-y-4 disabled:opacity-60">
        <BulkHostPicker hosts={hosts} hostTags={entry.hostTags} kind={entry.kind} settings={result?.settings ?? DEFAULT_SETTINGS} errors={errors} />

        <fieldset className="min-w-0 border-t border-slate-200 pt-3">
          <legend className="sr-only">Parameters</legend>
          <h2 className="text-sm font-semibold text-slate-800">Parameters</h2>
          {entry.parameters.length === 0 ? (
            <p className="py-2 text-sm text-slate-500">This {entry.kind} takes no parameters.</p>
          ) : (
            <div className="divide-y divide-slate-100">
              {entry.parameters.map((p) => (
                <ParameterField key={p.name} parameter={p} submitted={result?.values[p.name]} errors={errors[p.name]} hosts={hosts} />
              ))}
            </div>
          )}
        </fieldset>

        <div className="border-t border-slate-200 pt-3">
          <BulkOptionsFields entry={entry} result={result} errors={errors} />
        </div>

        <div className="flex items-center gap-3 border-t border-slate-200 pt-3">
          <IntentButton intent="preview" variant="filter" disabled={busy} busyLabel="Previewing…" testId="preview-bulk">
            Preview
          </IntentButton>
          <span className="text-xs text-slate-500">Nothing runs until you confirm the preview.</span>
        </div>

        {preview && result ? (
          <BulkPreviewPanel preview={preview} canary={result.settings.canarySize !== ''} maxParallel={result.settings.maxParallel} stale={editedAfter === result} />
        ) : null}
      </fieldset>
    </Form>
  );
}
