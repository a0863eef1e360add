import { CREDENTIAL_KINDS, CredentialBodySchema, type CredentialKind, type CredentialView } from '@drydock/core/api-schemas';
import { useState } from 'react';
import { Form, data, redirect } from 'react-router';
import type { Route } from './+types/credentials';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { RouteError } from '../components/route-error.tsx';
import { IntentButton } from '../components/ui/button.tsx';
import { Field, Options } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { api, result } from '../lib/api.server.ts';
import { hasFieldErrors, parseErrors, topLevelField, type FieldErrors } from '../lib/form-errors.ts';
import { credentialKindLabel, formatDateTime } from '../lib/format.ts';
import { loadCredentials } from '../lib/repositories.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Credentials · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const added = url.searchParams.get('added');
  const deleted = url.searchParams.get('deleted');
  const done = added ? `Credential “${added}” added.` : deleted ? `Credential “${deleted}” deleted.` : null;
  return { credentials: await loadCredentials(request), done };
}

/** The body of POST /credentials; the secret is taken as typed (keys need their line breaks). */
function credentialBody(form: FormData): Record<string, unknown> {
  const text = (name: string) => String(form.get(name) ?? '').trim();
  const body: Record<string, unknown> = { name: text('name'), kind: text('kind'), secret: String(form.get('secret') ?? '') };
  if (text('username')) body.username = text('username');
  return body;
}

/** The API's own schema, problems keyed by field. */
function checkCredential(form: FormData): FieldErrors {
  return parseErrors(CredentialBodySchema.safeParse(credentialBody(form)), { field: topLevelField });
}

/** Adds or deletes a credential. The secret goes to the API once and never comes back, not even after a failure. */
export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? '').trim();
  if (form.get('_intent') === 'delete') {
    const id = text('credentialId');
    const deleted = await result(api(request).credentials[':id'].$delete({ param: { id } }));
    if (deleted.ok) return redirect(`/credentials?deleted=${encodeURIComponent(text('credentialName') || id)}`);
    return data({ intent: 'delete' as const, message: deleted.error.message, fields: {} as FieldErrors, values: null }, { status: deleted.status });
  }
  const values = { name: text('name'), kind: text('kind'), username: text('username') };
  const fields = checkCredential(form);
  if (hasFieldErrors(fields)) return data({ intent: 'create' as const, message: 'Some fields need attention.', fields, values }, { status: 400 });
  const created = await result(api(request).credentials.$post({ json: CredentialBodySchema.parse(credentialBody(form)) }));
  // Redirecting empties the form (and the secret with it) for the next credential.
  if (created.ok) return redirect(`/credentials?added=${encodeURIComponent(created.body.name)}`);
  return data({ intent: 'create' as const, message: created.error.message, fields: created.error.fields ?? {}, values }, { status: created.status });
}

function AddCredential({ errors: serverErrors, values }: { errors: FieldErrors; values: Record<string, string> | null }) {
  const [kind, setKind] = useState<CredentialKind>(CREDENTIAL_KINDS.find((k) => k === values?.kind) ?? 'https_token');
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkCredential, serverErrors, intents: ['create'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-2" data-testid="credential-form" autoComplete="off">
      <Field name="name" id="cred-name" label="Name" messages={errors.name}>
        {(props) => <input {...props} type="text" defaultValue={values?.name ?? ''} placeholder="GitHub deploy token" />}
      </Field>
      <Field name="kind" id="cred-kind" label="Kind" messages={errors.kind}>
        {(props) => (
          <select {...props} value={kind} onChange={(e) => setKind(e.currentTarget.value as CredentialKind)}>
            <Options choices={CREDENTIAL_KINDS.map((k) => [k, credentialKindLabel(k)])} />
          </select>
        )}
      </Field>
      <Field name="username" id="cred-username" label="Username" optional messages={errors.username}>
        {(props) => <input {...props} type="text" defaultValue={values?.username ?? ''} placeholder={kind === 'ssh_key' ? 'git' : 'x-access-token'} />}
      </Field>
      <Field
        name="secret"
        id="cred-secret"
        label={kind === 'ssh_key' ? 'Private key (PEM / OpenSSH)' : kind === 'https_token' ? 'Token' : 'Password'}
        description="Stored encrypted; it is never shown again."
        messages={errors.secret}
        className={kind === 'ssh_key' ? 'sm:col-span-2' : ''}
      >
        {(props) =>
          kind === 'ssh_key' ? (
            // A password input would drop the key's line breaks; the textarea is masked instead.
            <textarea
              {...props}
              rows={5}
              spellCheck={false}
              autoComplete="off"
              defaultValue=""
              placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              className={`${props.className} font-mono text-xs [-webkit-text-security:disc]`}
            />
          ) : (
            <input {...props} type="password" autoComplete="new-password" defaultValue="" />
          )
        }
      </Field>
      <div className="sm:col-span-2">
        <IntentButton intent="create" busyLabel="Adding…" testId="add-credential">
          Add credential
        </IntentButton>
      </div>
    </Form>
  );
}

const COLUMNS: Column<CredentialView>[] = [
  {
    key: 'name',
    header: 'Name',
    cell: (c) => (
      <>
        {c.name}
        <div className="font-mono text-xs text-slate-500">{c.id}</div>
      </>
    ),
  },
  { key: 'kind', header: 'Kind', cell: (c) => credentialKindLabel(c.kind) },
  { key: 'username', header: 'Username', mono: true, cell: (c) => c.username ?? '—' },
  { key: 'added', header: 'Added (UTC)', mono: true, nowrap: true, cell: (c) => formatDateTime(c.createdAt) },
  {
    key: 'delete',
    header: 'Delete',
    hidden: true,
    align: 'right',
    cell: (c) => (
      <ConfirmDelete what={`the credential ${c.name}`} consequence="A repository still using it must be changed first." hidden={{ credentialId: c.id, credentialName: c.name }} />
    ),
  },
];

export default function CredentialsPage({ loaderData, actionData }: Route.ComponentProps) {
  const { credentials, done } = loaderData;
  const createFailure = actionData?.intent === 'create' ? actionData : undefined;
  return (
    <div className="max-w-5xl space-y-5">
      <PageHeader
        crumbs={[{ label: 'Repositories', to: '/repositories' }, { label: 'credentials' }]}
        title="Credentials"
        note="Tokens and keys repositories clone with. Secrets are write-only: Drydock never shows them again."
      />

      {actionData ? (
        <Notice tone="error" testId="credential-message">
          {actionData.message}
        </Notice>
      ) : done ? (
        <Notice tone="success" testId="credential-message">
          {done}
        </Notice>
      ) : null}

      <DataTable
        rows={credentials}
        columns={COLUMNS}
        rowKey={(c) => c.id}
        row={(c) => ({ 'data-testid': 'credential-row', 'data-credential-id': c.id })}
        testId="credential-list"
        empty="No credentials yet: public repositories need none."
      />

      <Panel title="Add a credential">
        <AddCredential errors={createFailure?.fields ?? {}} values={createFailure?.values ?? null} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
