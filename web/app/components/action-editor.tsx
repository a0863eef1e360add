import { RUNNERS, templateWords } from '@drydock/core/manifest';
import { useRef, useState } from 'react';
import { Form, Link } from 'react-router';
import { checkManifest, draftPath, fieldText, isParameterType, manifestFromForm, placedAt, preservedFields, renderedNames, type ManifestDraft } from '../lib/action-draft.ts';
import { unplacedErrors, type FieldErrors } from '../lib/form-errors.ts';
import { Field, FieldError } from './manifest-field.tsx';
import { Button, IntentButton } from './ui/button.tsx';
import { Options, StaticField, UnplacedErrors } from './ui/field.tsx';
import { useCheckedForm } from './ui/form.ts';
import { Notice } from './ui/notice.tsx';
import { Panel } from './ui/panel.tsx';
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
  // Removing a row renumbers the rows after it: the server's errors would then point at the wrong ones.
  const [rowsMoved, setRowsMoved] = useState(false);
  const form = useCheckedForm({ check: (data) => checkManifest(manifestFromForm(data)), serverErrors: rowsMoved ? {} : serverErrors, intents: ['save'] });
  const { errors, complained, busy } = form;
  const unplaced = unplacedErrors(errors, placedAt(renderedNames(rows.map((r) => r.type))));
  const value = (path: string, separator?: string) => fieldText(draftPath(draft, path), separator);

  const preserved = preservedFields(draft);
  const addRow = () => setRows((rs) => [...rs, { key: nextKey.current++, type: 'string', initial: { type: 'string' } }]);

  return (
    <Form method="post" noValidate onSubmit={(event) => {
        setRowsMoved(false);
        form.onSubmit(event);
      }} onChange={form.onChange} className="space-y-5" data-testid="action-editor">
      {Object.keys(preserved).length > 0 ? <input type="hidden" name="_preserved" value={JSON.stringify(preserved)} /> : null}
      {message && !complained && !busy ? (
        <Notice tone="error" as="div" testId="editor-message">
          {message}
        </Notice>
      ) : null}
      <UnplacedErrors entries={unplaced} showField />

      <Panel className="grid gap-4 sm:grid-cols-2">
        <Field name="name" label="Name" errors={errors}>
          {(props) => <input {...props} type="text" defaultValue={value('name')} />}
        </Field>
        {mode === 'new' ? (
          <Field name="id" label="Id" errors={errors} hint="lower-kebab-case; cannot change later">
            {(props) => <input {...props} type="text" spellCheck={false} defaultValue={value('id')} className={`${props.className} font-mono`} />}
          </Field>
        ) : (
          <div>
            <StaticField label="Id">{value('id')}</StaticField>
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
      </Panel>

      <Panel className="space-y-4">
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
                <Options choices={RUNNERS} />
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
      </Panel>

      <Panel title="Success criteria">
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
      </Panel>

      <Panel
        title="Parameters"
        testId="parameters-editor"
        action={
          <Button onClick={addRow} size="sm" testId="add-parameter">
            Add parameter
          </Button>
        }
      >
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
      </Panel>

      <div className="flex items-center gap-3">
        <IntentButton intent="save" busyLabel="Saving…" testId="save-action">
          {mode === 'new' ? 'Create action' : 'Save changes'}
        </IntentButton>
        <Link to={cancelHref} className="text-sm text-slate-600 underline">
          Cancel
        </Link>
      </div>
    </Form>
  );
}
