import { RUNNERS, templateWords } from '@drydock/core/manifest';
import { useRef, useState, type FormEvent } from 'react';
import { Form, Link, useNavigation } from 'react-router';
import {
  checkManifest,
  draftPath,
  fieldText,
  isParameterType,
  manifestFromForm,
  preservedFields,
  renderedNames,
  unplacedErrors,
  type ManifestDraft,
} from '../lib/action-draft.ts';
import type { FieldErrors } from '../lib/run-form.ts';
import { Field, FieldError } from './manifest-field.tsx';
import { ParameterRow, type ParameterRowState } from './parameter-row.tsx';

function CommandPreview({ template }: { template: string }) {
  if (template.trim() === '') return null;
  let words: string[];
  try {
    words = templateWords(template);
  } catch (err) {
    return <p className="mt-1 text-xs text-red-700">{(err as Error).message}</p>;
  }
  return (
    <div className="mt-1.5 flex flex-wrap items-center gap-1 text-xs" data-testid="command-words">
      <span className="text-slate-500">argv:</span>
      {words.map((w, i) => (
        <code key={i} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-slate-800 ring-1 ring-slate-200 ring-inset">
          {w === '' ? '""' : w}
        </code>
      ))}
    </div>
  );
}

function initialRows(draft: ManifestDraft): ParameterRowState[] {
  const params = Array.isArray(draft.parameters) ? (draft.parameters as Record<string, unknown>[]) : [];
  return params.map((p, i) => ({ key: i, type: isParameterType(p.type) ? p.type : 'string', initial: p }));
}

interface ActionEditorProps {
  mode: 'new' | 'edit';
  draft: ManifestDraft;
  /** From the route action: the API's answer, or the server's own check when the browser's did not run. */
  serverErrors: FieldErrors;
  message: string | null;
  cancelHref: string;
}

/** Edits an action's manifest: field names are manifest paths, so the API's field errors land beside their inputs. */
export function ActionEditor({ mode, draft, serverErrors, message, cancelHref }: ActionEditorProps) {
  const [rows, setRows] = useState<ParameterRowState[]>(() => initialRows(draft));
  const nextKey = useRef(rows.length);
  const [runner, setRunner] = useState(fieldText(draft.runner) || 'agent');
  const [command, setCommand] = useState(fieldText(draft.command_template));
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  // Removing a row renumbers the rows after it: the server's errors would then point at the wrong ones.
  const [rowsMoved, setRowsMoved] = useState(false);
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formMethod === 'POST';

  const errors = clientErrors ?? (busy || rowsMoved ? {} : serverErrors);
  const unplaced = unplacedErrors(errors, renderedNames(rows.map((r) => r.type)));
  const value = (path: string, separator?: string) => fieldText(draftPath(draft, path), separator);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const found = checkManifest(manifestFromForm(new FormData(event.currentTarget)));
    if (Object.keys(found).length === 0) {
      setClientErrors(null);
      setRowsMoved(false);
      return;
    }
    event.preventDefault();
    setClientErrors(found);
    const form = event.currentTarget;
    // The errors render on the next commit; focus the first invalid input once they have.
    requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(checkManifest(manifestFromForm(new FormData(event.currentTarget))));
  }

  const preserved = preservedFields(draft);
  const addRow = () => setRows((rs) => [...rs, { key: nextKey.current++, type: 'string', initial: { type: 'string' } }]);

  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="space-y-5" data-testid="action-editor">
      {Object.keys(preserved).length > 0 ? <input type="hidden" name="_preserved" value={JSON.stringify(preserved)} /> : null}
      {message && clientErrors === null && !busy ? (
        <div role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="editor-message">
          {message}
        </div>
      ) : null}
      {unplaced.length > 0 ? (
        <ul role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {unplaced.map(([key, messages]) => (
            <li key={key} data-field-error={key}>
              {key && key !== '_' ? <span className="font-mono">{key}: </span> : null}
              {messages.join(' ')}
            </li>
          ))}
        </ul>
      ) : null}

      <section className="grid gap-4 rounded border border-slate-200 bg-white p-4 sm:grid-cols-2">
        <Field name="name" label="Name" errors={errors}>
          {(props) => <input {...props} type="text" defaultValue={value('name')} />}
        </Field>
        {mode === 'new' ? (
          <Field name="id" label="Id" errors={errors} hint="lower-kebab-case; cannot change later">
            {(props) => <input {...props} type="text" spellCheck={false} defaultValue={value('id')} className={`${props.className} font-mono`} />}
          </Field>
        ) : (
          <div>
            <p className="mb-1 text-xs font-medium text-slate-700">Id</p>
            <p className="py-1.5 font-mono text-sm">{value('id')}</p>
            <input type="hidden" name="id" value={value('id')} />
            <FieldError name="id" errors={errors} />
          </div>
        )}
        <Field name="description" label="Description" errors={errors} className="sm:col-span-2">
          {(props) => <textarea {...props} rows={2} defaultValue={value('description')} />}
        </Field>
        <Field name="category" label="Category" errors={errors}>
          {(props) => <input {...props} type="text" placeholder="general" defaultValue={value('category')} />}
        </Field>
        <Field name="tags" label="Tags (comma-separated)" errors={errors}>
          {(props) => <input {...props} type="text" defaultValue={value('tags')} />}
        </Field>
      </section>

      <section className="space-y-4 rounded border border-slate-200 bg-white p-4">
        <Field
          name="command_template"
          label="Command template"
          errors={errors}
          hint={
            <>
              The command runs directly, never through a shell: pipes, redirects, <code>$VARS</code> and globs stay literal text. Each{' '}
              <code>{'{{param}}'}</code> is filled in inside the word it is written in, so a value is always exactly one argv word and can never add,
              split or join words. Quote a word containing spaces with <code>'…'</code> or <code>"…"</code>. Secrets cannot appear here: the command
              reads them from <code>DRYDOCK_PARAM_&lt;NAME&gt;</code>.
            </>
          }
        >
          {(props) => (
            <textarea
              {...props}
              rows={2}
              spellCheck={false}
              value={command}
              onChange={(e) => setCommand(e.currentTarget.value)}
              placeholder="df -h {{path}}"
              className={`${props.className} font-mono`}
            />
          )}
        </Field>
        <CommandPreview template={command} />
        <div className="grid gap-4 sm:grid-cols-4">
          <Field name="runner" label="Runner" errors={errors}>
            {(props) => (
              <select {...props} value={runner} onChange={(e) => setRunner(e.currentTarget.value)}>
                {RUNNERS.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {runner === 'docker' ? (
            <Field name="runner_image" label="Container image" errors={errors} className="sm:col-span-3">
              {(props) => <input {...props} type="text" spellCheck={false} placeholder="alpine:3.20" defaultValue={value('runner_image')} className={`${props.className} font-mono`} />}
            </Field>
          ) : (
            <FieldError name="runner_image" errors={errors} />
          )}
        </div>
        <div className="grid gap-4 sm:grid-cols-4">
          <Field name="timeout" label="Timeout (seconds)" errors={errors}>
            {(props) => <input {...props} type="number" step="any" placeholder="300" defaultValue={value('timeout')} />}
          </Field>
          <Field name="retries" label="Retries" errors={errors}>
            {(props) => <input {...props} type="number" step="any" placeholder="0" defaultValue={value('retries')} />}
          </Field>
          <Field name="retry_delay" label="Retry delay (seconds)" errors={errors}>
            {(props) => <input {...props} type="number" step="any" placeholder="5" defaultValue={value('retry_delay')} />}
          </Field>
          <div className="flex items-end pb-1.5">
            <label className="flex items-center gap-1.5 text-sm">
              <input type="checkbox" name="requires_lock" value="true" defaultChecked={draft.requires_lock === true} className="size-4 rounded border-slate-300" />
              one run per host at a time
            </label>
          </div>
        </div>
        <Field name="host_tags" label="Host tags (comma-separated)" errors={errors} hint="Only hosts carrying every one of these tags can run it.">
          {(props) => <input {...props} type="text" defaultValue={value('host_tags')} />}
        </Field>
      </section>

      <section className="rounded border border-slate-200 bg-white p-4">
        <h2 className="mb-3 text-sm font-semibold">Success criteria</h2>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field name="success_criteria.exit_codes" label="Exit codes meaning success (comma-separated)" errors={errors}>
            {(props) => <input {...props} type="text" placeholder="0" defaultValue={value('success_criteria.exit_codes')} />}
          </Field>
          <Field name="success_criteria.max_execution_time" label="Max execution time (seconds)" errors={errors}>
            {(props) => <input {...props} type="number" step="any" defaultValue={value('success_criteria.max_execution_time')} />}
          </Field>
          <Field name="success_criteria.output_contains" label="Output must contain (one per line)" errors={errors}>
            {(props) => <textarea {...props} rows={2} defaultValue={value('success_criteria.output_contains', '\n')} />}
          </Field>
          <Field name="success_criteria.output_not_contains" label="Output must not contain (one per line)" errors={errors}>
            {(props) => <textarea {...props} rows={2} defaultValue={value('success_criteria.output_not_contains', '\n')} />}
          </Field>
        </div>
      </section>

      <section className="rounded border border-slate-200 bg-white p-4" data-testid="parameters-editor">
        <div className="mb-3 flex items-center justify-between">
          <h2 className="text-sm font-semibold">Parameters</h2>
          <button type="button" onClick={addRow} data-testid="add-parameter" className="rounded border border-slate-300 bg-white px-2.5 py-1 text-sm hover:bg-slate-100">
            Add parameter
          </button>
        </div>
        <FieldError name="parameters" errors={errors} />
        {rows.length === 0 ? <p className="text-sm text-slate-500">No parameters: the command runs as written.</p> : null}
        <div className="space-y-3">
          {rows.map((row, i) => (
            <ParameterRow
              key={row.key}
              row={row}
              index={i}
              errors={errors}
              onType={(type) => setRows((rs) => rs.map((r) => (r.key === row.key ? { ...r, type } : r)))}
              onRemove={() => {
                setRows((rs) => rs.filter((r) => r.key !== row.key));
                setRowsMoved(true);
              }}
            />
          ))}
        </div>
      </section>

      <div className="flex items-center gap-3">
        <button
          type="submit"
          disabled={busy}
          data-testid="save-action"
          className="rounded bg-blue-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:cursor-not-allowed disabled:opacity-60"
        >
          {busy ? 'Saving…' : mode === 'new' ? 'Create action' : 'Save changes'}
        </button>
        <Link to={cancelHref} className="text-sm text-slate-600 underline">
          Cancel
        </Link>
      </div>
    </Form>
  );
}
