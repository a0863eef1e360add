import { REPOSITORY_PROVIDERS } from '@drydock/core/api-schemas';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Form, Link, useNavigation } from 'react-router';
import { credentialKindLabel, type CredentialView, type RepositoryView } from '../lib/api-views.ts';
import { formatSeconds } from '../lib/format.ts';
import { checkRepositoryBody, createBody, patchBody, type RepositoryFormValues } from '../lib/repository-form.ts';
import type { FieldErrors } from '../lib/run-form.ts';

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

const PROVIDER_LABEL: Record<RepositoryView['provider'], string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  bitbucket: 'Bitbucket',
  generic: 'Other git server',
};

function Field({ name, label, errors, hint, children }: { name: string; label: string; errors: FieldErrors; hint?: ReactNode; children: (invalid: boolean) => ReactNode }) {
  const messages = errors[name] ?? [];
  return (
    <div data-field={name}>
      <label htmlFor={`repo-${name}`} className="mb-1 block text-xs font-medium text-slate-700">
        {label}
      </label>
      {children(messages.length > 0)}
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      {messages.length > 0 ? (
        <p data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
          {messages.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

interface RepositoryFormProps {
  mode: 'new' | 'edit';
  /** The stored repository when editing; what was sent when the server sent the form back. */
  repository: RepositoryView | null;
  submitted: RepositoryFormValues | undefined;
  credentials: CredentialView[];
  errors: FieldErrors;
  message: string | null;
  saved?: boolean;
}

/** Where a repository's scripts come from and how often Drydock looks for new commits. */
export function RepositoryForm({ mode, repository, submitted, credentials, errors: serverErrors, message, saved }: RepositoryFormProps) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'save';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  const errors = clientErrors ?? (busy ? {} : serverErrors);
  const check = (form: HTMLFormElement) => {
    const data = new FormData(form);
    return checkRepositoryBody(mode === 'new' ? createBody(data) : patchBody(data), mode);
  };

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const found = check(event.currentTarget);
    if (Object.keys(found).length === 0) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(found);
    const form = event.currentTarget;
    requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(check(event.currentTarget));
  }

  const initial = (key: keyof RepositoryFormValues, fallback = ''): string => {
    if (submitted?.[key] !== undefined) return submitted[key];
    if (!repository) return fallback;
    if (key === 'credentialId') return repository.credential?.id ?? '';
    if (key === 'syncIntervalSeconds') return String(repository.syncIntervalSeconds);
    if (key === 'id') return repository.id;
    return String(repository[key]);
  };
  const cls = (invalid: boolean) => `${inputClass} ${invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'}`;
  const git = repository?.kind !== 'directory';
  const seconds = Number(initial('syncIntervalSeconds', '300'));
  const intervalHint = Number.isFinite(seconds) && seconds > 0 ? `now: ${formatSeconds(seconds)}${git ? '; a webhook syncs at once' : ''}` : undefined;
  // Uncontrolled fields keep what was typed; a fresh key after saving shows what the API stored.
  const formKey = repository ? `${repository.id}:${repository.name}:${repository.url}:${repository.branch}:${repository.path}:${repository.provider}:${repository.credential?.id ?? ''}:${repository.syncIntervalSeconds}` : 'new';

  return (
    <Form method="post" key={formKey} noValidate onSubmit={onSubmit} onChange={onChange} className="space-y-4" data-testid="repository-form">
      <input type="hidden" name="_intent" value="save" />
      {message && !busy && clientErrors === null ? (
        <p role={saved ? 'status' : 'alert'} className={`rounded border px-3 py-2 text-sm ${saved ? 'border-emerald-300 bg-emerald-50 text-emerald-900' : 'border-red-200 bg-red-50 text-red-800'}`}>
          {message}
        </p>
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="name" label="Name" errors={errors}>
          {(invalid) => <input id="repo-name" name="name" type="text" defaultValue={initial('name')} aria-invalid={invalid || undefined} className={cls(invalid)} />}
        </Field>
        {mode === 'new' ? (
          <Field name="id" label="Id" errors={errors} hint="lower-kebab-case; part of the webhook URL, cannot change later">
            {(invalid) => (
              <input id="repo-id" name="id" type="text" spellCheck={false} defaultValue={initial('id')} aria-invalid={invalid || undefined} className={`${cls(invalid)} font-mono`} />
            )}
          </Field>
        ) : (
          <div>
            <p className="mb-1 text-xs font-medium text-slate-700">Id</p>
            <p className="py-1.5 font-mono text-sm">{repository?.id}</p>
          </div>
        )}
        <Field name="url" label={git ? 'Clone URL' : 'Directory'} errors={errors} hint={git ? 'https://… or git@host:owner/repo.git' : 'A directory on the API server, read as it is.'}>
          {(invalid) => (
            <input
              id="repo-url"
              name="url"
              type="text"
              spellCheck={false}
              placeholder="https://github.com/acme/ops-scripts.git"
              defaultValue={initial('url')}
              aria-invalid={invalid || undefined}
              className={`${cls(invalid)} font-mono`}
            />
          )}
        </Field>
        {git ? (
          <Field name="provider" label="Hosted on" errors={errors} hint="Decides how webhook deliveries are checked.">
            {(invalid) => (
              <select id="repo-provider" name="provider" defaultValue={initial('provider', 'generic')} aria-invalid={invalid || undefined} className={cls(invalid)}>
                {REPOSITORY_PROVIDERS.map((p) => (
                  <option key={p} value={p}>
                    {PROVIDER_LABEL[p]}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {git ? (
          <Field name="branch" label="Branch" errors={errors}>
            {(invalid) => <input id="repo-branch" name="branch" type="text" spellCheck={false} placeholder="main" defaultValue={initial('branch')} aria-invalid={invalid || undefined} className={`${cls(invalid)} font-mono`} />}
          </Field>
        ) : null}
        <Field name="path" label="Path inside the repository" errors={errors} hint="Where manifests/ lives; empty for the top level.">
          {(invalid) => <input id="repo-path" name="path" type="text" spellCheck={false} placeholder="(top level)" defaultValue={initial('path')} aria-invalid={invalid || undefined} className={`${cls(invalid)} font-mono`} />}
        </Field>
        {git ? (
          <Field
            name="credentialId"
            label="Credential"
            errors={errors}
            hint={
              <>
                For private repositories.{' '}
                <Link to="/credentials" className="text-blue-700 hover:underline" data-testid="manage-credentials">
                  Manage credentials
                </Link>
              </>
            }
          >
            {(invalid) => (
              <select id="repo-credentialId" name="credentialId" defaultValue={initial('credentialId')} aria-invalid={invalid || undefined} className={cls(invalid)}>
                <option value="">none (public repository)</option>
                {credentials.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} ({credentialKindLabel(c.kind)})
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <Field name="syncIntervalSeconds" label={git ? 'Look for new commits every (seconds)' : 'Re-read every (seconds)'} errors={errors} hint={intervalHint}>
          {(invalid) => (
            <input
              id="repo-syncIntervalSeconds"
              name="syncIntervalSeconds"
              type="number"
              min={60}
              step={1}
              placeholder="300"
              defaultValue={initial('syncIntervalSeconds')}
              aria-invalid={invalid || undefined}
              className={cls(invalid)}
            />
          )}
        </Field>
        {git ? (
          <Field
            name="webhookSecret"
            label="Webhook secret"
            errors={errors}
            hint={mode === 'edit' ? (repository?.hasWebhookSecret ? 'A secret is set. Leave blank to keep it.' : 'None set.') : 'At least 8 characters; the same value goes into the webhook settings of your git host. Webhooks are refused without one.'}
          >
            {(invalid) => (
              <input id="repo-webhookSecret" name="webhookSecret" type="password" autoComplete="new-password" defaultValue="" aria-invalid={invalid || undefined} className={cls(invalid)} />
            )}
          </Field>
        ) : null}
        {git && mode === 'edit' && repository?.hasWebhookSecret ? (
          <label className="flex items-center gap-1.5 self-center text-sm">
            <input type="checkbox" name="clearWebhookSecret" value="true" className="size-4 rounded border-slate-300" />
            remove the webhook secret
          </label>
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={busy} data-testid="save-repository" className="rounded bg-blue-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:opacity-60">
          {busy ? 'Saving…' : mode === 'new' ? 'Add repository' : 'Save settings'}
        </button>
        {mode === 'new' ? <span className="text-xs text-slate-500">The first sync starts at once.</span> : null}
      </div>
    </Form>
  );
}
