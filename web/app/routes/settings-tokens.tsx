import { NewTokenBodySchema, type CreatedToken, type TokenView } from '@drydock/core/api-schemas';
import { Form, data } from 'react-router';
import type { Route } from './+types/settings-tokens';
import { RouteError } from '../components/route-error.tsx';
import { revokeColumn, tokenState, tokenStateColumn } from '../components/token-columns.tsx';
import { IntentButton } from '../components/ui/button.tsx';
import { Field } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, parseErrors, topLevelField, type FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'API tokens · Drydock' }];

const SCOPES = [
  ['read', 'read: see what there is'],
  ['run', 'run: start and stop runs'],
  ['manage', 'manage: change the catalog, hosts, credentials'],
] as const;

export async function loader({ request }: Route.LoaderArgs) {
  const { tokens } = await answer(api(request).tokens.$get());
  return { tokens };
}

/** The form's fields as POST /tokens takes them; the expiry is optional days. */
function tokenBody(form: FormData): Record<string, unknown> {
  const days = String(form.get('expiresInDays') ?? '').trim();
  return {
    name: String(form.get('name') ?? '').trim(),
    scopes: form.getAll('scopes').map(String),
    ...(days === '' ? {} : { expiresInDays: Number(days) }),
  };
}

function checkToken(form: FormData): FieldErrors {
  return parseErrors(NewTokenBodySchema.safeParse(tokenBody(form)), { field: topLevelField });
}

type Outcome =
  | { intent: 'create'; ok: true; created: CreatedToken }
  | { intent: 'create'; ok: false; message: string; fields: FieldErrors }
  | { intent: 'revoke'; ok: boolean; message: string };

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  if (form.get('_intent') === 'revoke') {
    const id = String(form.get('id') ?? '');
    const revoked = await result(api(request).tokens[':id'].$delete({ param: { id } }));
    if (revoked.ok) return { intent: 'revoke', ok: true, message: `Token “${revoked.body.name}” revoked: it no longer works.` } satisfies Outcome;
    return data({ intent: 'revoke', ok: false, message: revoked.error.message } satisfies Outcome, { status: revoked.status });
  }
  const fields = checkToken(form);
  if (hasFieldErrors(fields)) return data({ intent: 'create', ok: false, message: 'Some fields need attention.', fields } satisfies Outcome, { status: 400 });
  const created = await result(api(request).tokens.$post({ json: NewTokenBodySchema.parse(tokenBody(form)) }));
  // The value is in this answer only: not in a redirect's URL, and the API keeps only its hash.
  if (created.ok) return { intent: 'create', ok: true, created: created.body } satisfies Outcome;
  return data({ intent: 'create', ok: false, message: created.error.message, fields: created.error.fields ?? {} } satisfies Outcome, { status: created.status });
}

const COLUMNS: Column<TokenView>[] = [
  { key: 'name', header: 'Name', testId: 'token-name', cell: (t) => t.name },
  { key: 'prefix', header: 'Starts with', mono: true, cell: (t) => `${t.prefix}…` },
  { key: 'scopes', header: 'Scopes', testId: 'token-scopes', cell: (t) => t.scopes.join(', ') },
  tokenStateColumn('token-state'),
  { key: 'created', header: 'Created (UTC)', mono: true, nowrap: true, cell: (t) => formatDateTime(t.createdAt) },
  { key: 'expires', header: 'Expires (UTC)', mono: true, nowrap: true, cell: (t) => (t.expiresAt ? formatDateTime(t.expiresAt) : 'never') },
  { key: 'used', header: 'Last used (UTC)', mono: true, nowrap: true, cell: (t) => (t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'never') },
  revokeColumn('token-revoke'),
];

/** The new token's value, this once. */
function CreatedTokenNotice({ created }: { created: CreatedToken }) {
  return (
    <Notice tone="success" as="div" testId="token-created">
      <p>
        Token “{created.name}” created. Copy it now: it is shown this once, and Drydock keeps only its hash.
      </p>
      <input
        readOnly
        value={created.token}
        aria-label="The new token"
        onFocus={(event) => event.currentTarget.select()}
        className="mt-2 block w-full rounded border border-emerald-300 bg-white px-2 py-1 font-mono text-sm"
        data-testid="token-value"
      />
      <p className="mt-1 text-xs">Select it and copy it (Ctrl+C or ⌘C), then send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
    </Notice>
  );
}

function NewToken({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkToken, serverErrors, intents: ['create'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-2" data-testid="token-form">
      <Field name="name" id="token-name" label="Name" required description="What uses it: “CI deploys”, “my laptop”." messages={errors.name}>
        {(props) => <input {...props} type="text" />}
      </Field>
      <Field name="expiresInDays" id="token-expiry" label="Expires after (days)" optional description="Empty: it works until revoked." messages={errors.expiresInDays}>
        {(props) => <input {...props} type="number" min={1} max={366} defaultValue={90} />}
      </Field>
      <Field name="scopes" id="token-scopes" label="Scopes" layout="group" required description="It acts with your role in this team, never more, limited to these." messages={errors.scopes} className="sm:col-span-2">
        {(props) => (
          <div className="flex flex-wrap gap-4" aria-labelledby={props['aria-labelledby']} aria-describedby={props['aria-describedby']} role="group">
            {SCOPES.map(([value, label]) => (
              <label key={value} className="inline-flex items-center gap-1.5 text-sm">
                <input type="checkbox" name="scopes" value={value} defaultChecked={value === 'read'} className="size-4 rounded border-slate-300" data-testid={`token-scope-${value}`} />
                {label}
              </label>
            ))}
          </div>
        )}
      </Field>
      <div className="sm:col-span-2">
        <IntentButton intent="create" busyLabel="Creating…" testId="token-create">
          Create token
        </IntentButton>
      </div>
    </Form>
  );
}

export default function TokensPage({ loaderData, actionData }: Route.ComponentProps) {
  const outcome = actionData as Outcome | undefined;
  return (
    <div className="max-w-6xl space-y-5">
      <PageHeader title="API tokens" note="Your personal tokens in this team, for scripts and CI. A token acts as you, with your current role here, limited to its scopes." />
      {outcome?.intent === 'create' && outcome.ok ? <CreatedTokenNotice created={outcome.created} /> : null}
      {outcome && !(outcome.intent === 'create' && outcome.ok) ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} testId="token-message">
          {outcome.message}
        </Notice>
      ) : null}
      <Section title="Your tokens">
        <DataTable
          rows={loaderData.tokens}
          columns={COLUMNS}
          rowKey={(t) => t.id}
          row={(t) => ({ 'data-testid': 'token-row', 'data-token-name': t.name, 'data-state': tokenState(t).label })}
          testId="token-list"
          label="API tokens"
          empty="You have no API tokens in this team."
          emptyTestId="token-list-empty"
        />
      </Section>
      <Panel title="New token">
        <NewToken errors={outcome?.intent === 'create' && !outcome.ok ? outcome.fields : {}} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
