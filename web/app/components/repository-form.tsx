import { REPOSITORY_PROVIDERS } from '@drydock/core/api-schemas';
import { Form, Link } from 'react-router';
import type { CredentialView, RepositoryView } from '@drydock/core/api-schemas';
import { credentialKindLabel } from '../lib/format.ts';
import { formatSeconds } from '../lib/format.ts';
import { checkRepositoryBody, createBody, patchBody, type RepositoryFormValues } from '../lib/repository-form.ts';
import { IntentButton } from './ui/button.tsx';
import { Field, Options, StaticField } from './ui/field.tsx';
import { useCheckedForm } from './ui/form.ts';
import { OutcomeNotice } from './ui/notice.tsx';
import type { FieldErrors } from '../lib/form-errors.ts';

const PROVIDER_LABEL: Record<RepositoryView['provider'], string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  bitbucket: 'Bitbucket',
  generic: 'Other git server',
};

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
  const { errors, complained, busy, onSubmit, onChange } = useCheckedForm({
    check: (data) => checkRepositoryBody(mode === 'new' ? createBody(data) : patchBody(data), mode),
    serverErrors,
    intents: ['save'],
  });
  const field = (name: string) => ({ name, id: `repo-${name}`, messages: errors[name] });

  const initial = (key: keyof RepositoryFormValues, fallback = ''): string => {
    if (submitted?.[key] !== undefined) return submitted[key];
    if (!repository) return fallback;
    if (key === 'credentialId') return repository.credential?.id ?? '';
    if (key === 'syncIntervalSeconds') return String(repository.syncIntervalSeconds);
    if (key === 'id') return repository.id;
    return String(repository[key]);
  };
  const git = repository?.kind !== 'directory';
  const seconds = Number(initial('syncIntervalSeconds', '300'));
  const intervalHint = Number.isFinite(seconds) && seconds > 0 ? `now: ${formatSeconds(seconds)}${git ? '; a webhook syncs at once' : ''}` : undefined;
  // Uncontrolled fields keep what was typed; a fresh key after saving shows what the API stored.
  const formKey = repository ? `${repository.id}:${repository.name}:${repository.url}:${repository.branch}:${repository.path}:${repository.provider}:${repository.credential?.id ?? ''}:${repository.syncIntervalSeconds}` : 'new';

  return (
    <Form method="post" key={formKey} noValidate onSubmit={onSubmit} onChange={onChange} className="space-y-4" data-testid="repository-form">
      <OutcomeNotice outcome={message && !busy && !complained ? { ok: saved === true, message } : null} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field {...field('name')} label="Name">
          {(props) => <input {...props} type="text" defaultValue={initial('name')} />}
        </Field>
        {mode === 'new' ? (
          <Field {...field('id')} label="Id" description="lower-kebab-case; part of the webhook URL, cannot change later">
            {(props) => <input {...props} type="text" spellCheck={false} defaultValue={initial('id')} className={`${props.className} font-mono`} />}
          </Field>
        ) : (
          <StaticField label="Id">{repository?.id}</StaticField>
        )}
        <Field {...field('url')} label={git ? 'Clone URL' : 'Directory'} description={git ? 'https://… or git@host:owner/repo.git' : 'A directory on the API server, read as it is.'}>
          {(props) => <input {...props} type="text" spellCheck={false} placeholder="https://github.com/acme/ops-scripts.git" defaultValue={initial('url')} className={`${props.className} font-mono`} />}
        </Field>
        {git ? (
          <Field {...field('provider')} label="Hosted on" description="Decides how webhook deliveries are checked.">
            {(props) => (
              <select {...props} defaultValue={initial('provider', 'generic')}>
                <Options choices={REPOSITORY_PROVIDERS.map((p) => [p, PROVIDER_LABEL[p]])} />
              </select>
            )}
          </Field>
        ) : null}
        {git ? (
          <Field {...field('branch')} label="Branch">
            {(props) => <input {...props} type="text" spellCheck={false} placeholder="main" defaultValue={initial('branch')} className={`${props.className} font-mono`} />}
          </Field>
        ) : null}
        <Field {...field('path')} label="Path inside the repository" description="Where manifests/ lives; empty for the top level.">
          {(props) => <input {...props} type="text" spellCheck={false} placeholder="(top level)" defaultValue={initial('path')} className={`${props.className} font-mono`} />}
        </Field>
        {git ? (
          <Field
            {...field('credentialId')}
            label="Credential"
            description={
              <>
                For private repositories.{' '}
                <Link to="/credentials" className="text-blue-700 hover:underline" data-testid="manage-credentials">
                  Manage credentials
                </Link>
              </>
            }
          >
            {(props) => (
              <select {...props} defaultValue={initial('credentialId')}>
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
        <Field {...field('syncIntervalSeconds')} label={git ? 'Look for new commits every (seconds)' : 'Re-read every (seconds)'} description={intervalHint}>
          {(props) => <input {...props} type="number" min={60} step={1} placeholder="300" defaultValue={initial('syncIntervalSeconds')} />}
        </Field>
        {git ? (
          <Field
            {...field('webhookSecret')}
            label="Webhook secret"
            description={mode === 'edit' ? (repository?.hasWebhookSecret ? 'A secret is set. Leave blank to keep it.' : 'None set.') : 'At least 8 characters; the same value goes into the webhook settings of your git host. Webhooks are refused without one.'}
          >
            {(props) => <input {...props} type="password" autoComplete="new-password" defaultValue="" />}
          </Field>
        ) : null}
        {git && mode === 'edit' && repository?.hasWebhookSecret ? (
          <Field name="clearWebhookSecret" id="repo-clearWebhookSecret" label="remove the webhook secret" layout="inline" size="sm" className="self-center">
            {(props) => <input {...props} type="checkbox" value="true" />}
          </Field>
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        <IntentButton intent="save" busyLabel="Saving…" testId="save-repository">
          {mode === 'new' ? 'Add repository' : 'Save settings'}
        </IntentButton>
        {mode === 'new' ? <span className="text-xs text-slate-500">The first sync starts at once.</span> : null}
      </div>
    </Form>
  );
}
