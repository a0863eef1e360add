import { CredentialBodySchema } from '@drydock/core/api-schemas';
import { useState, type FormEvent } from 'react';
import { Form, Link, data, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/credentials';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { RouteError } from '../components/route-error.tsx';
import { callApi } from '../lib/api.server.ts';
import { CREDENTIAL_KINDS, credentialKindLabel, type CredentialKind, type CredentialView } from '../lib/api-views.ts';
import { formatDateTime } from '../lib/format.ts';
import { loadCredentials } from '../lib/repositories.server.ts';
import type { FieldErrors } from '../lib/run-form.ts';

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
function checkCredential(body: Record<string, unknown>): FieldErrors {
  const parsed = CredentialBodySchema.safeParse(body);
  const fields: FieldErrors = {};
  if (!parsed.success) for (const issue of parsed.error.issues) (fields[String(issue.path[0] ?? '_')] ??= []).push(issue.message);
  return fields;
}

/** Adds or deletes a credential. The secret goes to the API once and never comes back, not even after a failure. */
export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? '').trim();
  if (form.get('_intent') === 'delete') {
    const id = text('credentialId');
    const deleted = await callApi<null>(request, `/api/v1/credentials/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (deleted.ok) return redirect(`/credentials?deleted=${encodeURIComponent(text('credentialName') || id)}`);
    return data({ intent: 'delete' as const, message: deleted.error.message, fields: {} as FieldErrors, values: null }, { status: deleted.status });
  }
  const values = { name: text('name'), kind: text('kind'), username: text('username') };
  const body = credentialBody(form);
  const fields = checkCredential(body);
  if (Object.keys(fields).length > 0) return data({ intent: 'create' as const, message: 'Some fields need attention.', fields, values }, { status: 400 });
  const created = await callApi<CredentialView>(request, '/api/v1/credentials', { method: 'POST', body });
  // Redirecting empties the form (and the secret with it) for the next credential.
  if (created.ok) return redirect(`/credentials?added=${encodeURIComponent(created.body.name)}`);
  return data({ intent: 'create' as const, message: created.error.message, fields: created.error.fields ?? {}, values }, { status: created.status });
}

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

function FieldError({ name, errors }: { name: string; errors: FieldErrors }) {
  const messages = errors[name];
  if (!messages || messages.length === 0) return null;
  return (
    <p data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
      {messages.join(' ')}
    </p>
  );
}

function AddCredential({ errors: serverErrors, values }: { errors: FieldErrors; values: Record<string, string> | null }) {
  const [kind, setKind] = useState<CredentialKind>(CREDENTIAL_KINDS.find((k) => k === values?.kind) ?? 'https_token');
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'create';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  const errors = clientErrors ?? (busy ? {} : serverErrors);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const found = checkCredential(credentialBody(new FormData(event.currentTarget)));
    setClientErrors(Object.keys(found).length > 0 ? found : null);
    if (Object.keys(found).length > 0) event.preventDefault();
  }
  const cls = (name: string) => `${inputClass} ${errors[name] ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'}`;
  return (
    <Form method="post" noValidate onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-2" data-testid="credential-form" autoComplete="off">
      <input type="hidden" name="_intent" value="create" />
      <div>
        <label htmlFor="cred-name" className="mb-1 block text-xs font-medium text-slate-700">
          Name
        </label>
        <input id="cred-name" name="name" type="text" defaultValue={values?.name ?? ''} placeholder="GitHub deploy token" className={cls('name')} />
        <FieldError name="name" errors={errors} />
      </div>
      <div>
        <label htmlFor="cred-kind" className="mb-1 block text-xs font-medium text-slate-700">
          Kind
        </label>
        <select id="cred-kind" name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as CredentialKind)} className={cls('kind')}>
          {CREDENTIAL_KINDS.map((k) => (
            <option key={k} value={k}>
              {credentialKindLabel(k)}
            </option>
          ))}
        </select>
        <FieldError name="kind" errors={errors} />
      </div>
      <div>
        <label htmlFor="cred-username" className="mb-1 block text-xs font-medium text-slate-700">
          Username <span className="font-normal text-slate-500">(optional)</span>
        </label>
        <input
          id="cred-username"
          name="username"
          type="text"
          defaultValue={values?.username ?? ''}
          placeholder={kind === 'ssh_key' ? 'git' : 'x-access-token'}
          className={cls('username')}
        />
        <FieldError name="username" errors={errors} />
      </div>
      <div className={kind === 'ssh_key' ? 'sm:col-span-2' : ''}>
        <label htmlFor="cred-secret" className="mb-1 block text-xs font-medium text-slate-700">
          {kind === 'ssh_key' ? 'Private key (PEM / OpenSSH)' : kind === 'https_token' ? 'Token' : 'Password'}
        </label>
        {kind === 'ssh_key' ? (
          // A password input would drop the key's line breaks; the textarea is masked instead.
          <textarea
            id="cred-secret"
            name="secret"
            rows={5}
            spellCheck={false}
            autoComplete="off"
            defaultValue=""
            placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
            className={`${cls('secret')} font-mono text-xs [-webkit-text-security:disc]`}
          />
        ) : (
          <input id="cred-secret" name="secret" type="password" autoComplete="new-password" defaultValue="" className={cls('secret')} />
        )}
        <p className="mt-1 text-xs text-slate-500">Stored encrypted; it is never shown again.</p>
        <FieldError name="secret" errors={errors} />
      </div>
      <div className="sm:col-span-2">
        <button type="submit" disabled={busy} data-testid="add-credential" className="rounded bg-blue-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:opacity-60">
          {busy ? 'Adding…' : 'Add credential'}
        </button>
      </div>
    </Form>
  );
}

export default function CredentialsPage({ loaderData, actionData }: Route.ComponentProps) {
  const { credentials, done } = loaderData;
  const createFailure = actionData?.intent === 'create' ? actionData : undefined;
  return (
    <div className="max-w-5xl space-y-5">
      <div>
        <p className="text-xs text-slate-500">
          <Link to="/repositories" className="hover:underline">
            Repositories
          </Link>{' '}
          / credentials
        </p>
        <h1 className="text-lg font-semibold">Credentials</h1>
        <p className="text-xs text-slate-500">Tokens and keys repositories clone with. Secrets are write-only: Drydock never shows them again.</p>
      </div>

      {actionData ? (
        <p role="alert" data-testid="credential-message" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {actionData.message}
        </p>
      ) : done ? (
        <p role="status" data-testid="credential-message" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {done}
        </p>
      ) : null}

      {credentials.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-6 text-center text-sm text-slate-500">No credentials yet: public repositories need none.</p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="credential-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Name</th>
                <th className="px-3 py-2 font-medium">Kind</th>
                <th className="px-3 py-2 font-medium">Username</th>
                <th className="px-3 py-2 font-medium">Added (UTC)</th>
                <th className="px-3 py-2 font-medium">
                  <span className="sr-only">Delete</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {credentials.map((c) => (
                <tr key={c.id} data-testid="credential-row" data-credential-id={c.id}>
                  <td className="px-3 py-2">
                    {c.name}
                    <div className="font-mono text-xs text-slate-500">{c.id}</div>
                  </td>
                  <td className="px-3 py-2">{credentialKindLabel(c.kind)}</td>
                  <td className="px-3 py-2 font-mono text-xs">{c.username ?? '—'}</td>
                  <td className="px-3 py-2 font-mono text-xs whitespace-nowrap">{formatDateTime(c.createdAt)}</td>
                  <td className="px-3 py-2 text-right">
                    <div className="inline-block text-left">
                      <ConfirmDelete
                        what={`the credential ${c.name}`}
                        consequence="A repository still using it must be changed first."
                        hidden={{ credentialId: c.id, credentialName: c.name }}
                        label="Delete…"
                      />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <section className="rounded border border-slate-200 bg-white p-4">
        <h2 className="mb-3 text-sm font-semibold">Add a credential</h2>
        <AddCredential errors={createFailure?.fields ?? {}} values={createFailure?.values ?? null} />
      </section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
